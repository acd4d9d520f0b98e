// Schema migrations: applied in order to an empty database, a no-op the second
// time, safe when several processes run them at once, and refusing databases
// they do not understand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <latch>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "hilnas/catalog/objectives.h"
#include "hilnas/common/errors.h"
#include "hilnas/store/migrations.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/pg.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::vector<std::string> EmbeddedNames() {
    std::vector<std::string> names;
    for (const store::Migration& m : store::EmbeddedMigrations()) names.emplace_back(m.name);
    return names;
}

// Every table, view and function of the public schema, with a digest of its definition.
std::map<std::string, std::string> SchemaSnapshot(const std::string& dsn) {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    std::map<std::string, std::string> out;
    for (const pqxx::row& r : tx.exec(
             "SELECT c.relname, c.relkind::text || ':' || coalesce(md5(pg_get_viewdef(c.oid)), '') "
             "|| ':' || (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid) "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE n.nspname = 'public'")) {
        out[r[0].as<std::string>()] = r[1].as<std::string>();
    }
    for (const pqxx::row& r :
         tx.exec("SELECT p.proname, md5(pg_get_functiondef(p.oid)) FROM pg_proc p "
                 "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'")) {
        out["fn:" + r[0].as<std::string>()] = r[1].as<std::string>();
    }
    return out;
}

TEST(Migrations, AreEmbeddedAndNumberedInOrder) {
    const auto& migrations = store::EmbeddedMigrations();
    ASSERT_GE(migrations.size(), 2u);
    int previous = 0;
    for (const store::Migration& m : migrations) {
        EXPECT_GT(m.version, previous) << m.name;
        previous = m.version;
        char prefix[8];
        std::snprintf(prefix, sizeof prefix, "%04d_", m.version);
        EXPECT_TRUE(std::string(m.name).starts_with(prefix)) << m.name;
        EXPECT_TRUE(std::regex_match(std::string(m.name), std::regex("[0-9]{4}_[a-z0-9_]+")))
            << m.name;
        EXPECT_FALSE(m.sql.empty()) << m.name;
    }
    EXPECT_EQ(migrations.front().version, 1);
}

// The schema's objective names (its CHECK on every objective row) are the
// catalogue's, in the same order.
TEST(Migrations, TheSchemasObjectiveNamesAreTheCatalogues) {
    const std::string dsn = testing::FreshDatabase("objective_names");
    store::Migrate(dsn);
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    std::vector<std::string> schema;
    for (const pqxx::row& r : tx.exec("SELECT unnest(hilnas_objective_names()) AS name")) {
        schema.push_back(r["name"].as<std::string>());
    }
    std::vector<std::string> catalogue;
    for (const catalog::Objective& o : catalog::Objectives()) catalogue.emplace_back(o.name);
    EXPECT_THAT(schema, ElementsAreArray(catalogue));
}

TEST(Migrations, ApplyToAnEmptyDatabaseThenAreANoOp) {
    const std::string dsn = testing::FreshDatabase("mig");
    EXPECT_EQ(store::SchemaVersion(dsn), 0);

    const store::MigrationReport first = store::Migrate(dsn);
    EXPECT_THAT(first.applied, ElementsAreArray(EmbeddedNames()));
    EXPECT_EQ(first.version, store::EmbeddedMigrations().back().version);
    EXPECT_EQ(store::SchemaVersion(dsn), first.version);

    for (const char* relation :
         {"jobs", "trials", "trial_metrics", "trial_objectives", "measurements", "artifacts",
          "workers", "agents", "boards", "job_events", "trial_leases", "job_hypervolume",
          "schema_migrations", "v_trial_objectives", "v_pareto_front", "v_job_hypervolume",
          "v_board_utilisation"}) {
        EXPECT_TRUE(testing::QueryValue<bool>(dsn, "SELECT to_regclass($1) IS NOT NULL",
                                              std::string(relation)))
            << relation;
    }
    const auto before = SchemaSnapshot(dsn);

    const store::MigrationReport second = store::Migrate(dsn);
    EXPECT_THAT(second.applied, IsEmpty());
    EXPECT_EQ(second.version, first.version);
    EXPECT_EQ(SchemaSnapshot(dsn), before);
    EXPECT_EQ(testing::QueryValue<int>(dsn, "SELECT count(*) FROM schema_migrations"),
              static_cast<int>(store::EmbeddedMigrations().size()));
}

TEST(Migrations, ConcurrentRunsDoNotFailAndApplyEachMigrationOnce) {
    const std::string dsn = testing::FreshDatabase("migc");
    constexpr int kRunners = 4;
    std::latch start(kRunners);
    std::vector<store::MigrationReport> reports(kRunners);
    std::vector<std::string> errors(kRunners);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRunners; ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            try {
                reports[static_cast<size_t>(i)] = store::Migrate(dsn);
            } catch (const std::exception& e) {
                errors[static_cast<size_t>(i)] = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();

    std::map<std::string, int> times_applied;
    for (int i = 0; i < kRunners; ++i) {
        EXPECT_EQ(errors[static_cast<size_t>(i)], "") << "runner " << i;
        EXPECT_EQ(reports[static_cast<size_t>(i)].version,
                  store::EmbeddedMigrations().back().version);
        for (const std::string& name : reports[static_cast<size_t>(i)].applied) {
            ++times_applied[name];
        }
    }
    for (const std::string& name : EmbeddedNames()) EXPECT_EQ(times_applied[name], 1) << name;
    EXPECT_EQ(testing::QueryValue<int>(dsn, "SELECT count(*) FROM schema_migrations"),
              static_cast<int>(store::EmbeddedMigrations().size()));
}

TEST(Migrations, AnEditedMigrationIsRefused) {
    const std::string dsn = testing::MigratedDatabase("miged");
    {
        pqxx::connection conn(dsn);
        pqxx::work tx(conn);
        tx.exec0("UPDATE schema_migrations SET sha256 = 'edited' WHERE version = 1");
        tx.commit();
    }
    EXPECT_THROW(store::Migrate(dsn), FailedPrecondition);
}

TEST(Migrations, ADatabaseNewerThanTheProgramIsRefused) {
    const std::string dsn = testing::MigratedDatabase("mignew");
    {
        pqxx::connection conn(dsn);
        pqxx::work tx(conn);
        tx.exec0(
            "INSERT INTO schema_migrations (version, name, sha256) "
            "VALUES (9999, '9999_future', 'x')");
        tx.commit();
    }
    EXPECT_THROW(store::Migrate(dsn), FailedPrecondition);
}

TEST(Migrations, AFailingMigrationLeavesNothingBehind) {
    // A database where 0001 cannot apply (a table of the same name exists).
    const std::string dsn = testing::FreshDatabase("migfail");
    {
        pqxx::connection conn(dsn);
        pqxx::work tx(conn);
        tx.exec0("CREATE TABLE workers (x int)");
        tx.commit();
    }
    EXPECT_THROW(store::Migrate(dsn), Internal);
    EXPECT_EQ(testing::QueryValue<int>(dsn, "SELECT count(*) FROM schema_migrations"), 0);
    EXPECT_FALSE(testing::QueryValue<bool>(dsn, "SELECT to_regclass('jobs') IS NOT NULL"));
}

TEST(Migrations, AnUnreachableDatabaseIsUnavailable) {
    const int port = store::FreeLoopbackPort();
    EXPECT_THROW(store::Migrate("host=127.0.0.1 port=" + std::to_string(port) +
                                " dbname=nothing user=nobody connect_timeout=2"),
                 Unavailable);
}

}  // namespace
}  // namespace hilnas
