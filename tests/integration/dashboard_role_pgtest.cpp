// deploy/postgres/dashboard-role.sql: the dashboards' read-only role can read
// every view (and the result tables behind them), and cannot write anything
// or read the trained models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "hilnas/store/migrations.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;

// Runs `sql` as `user` and returns the error message, or "" when it succeeded.
std::string RunAs(const std::string& dsn, const std::string& user, const std::string& sql) {
    try {
        pqxx::connection conn(dsn + " user=" + user + " password=probe-password-1");
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
        return "";
    } catch (const std::exception& e) {
        return e.what();
    }
}

TEST(DashboardRole, ReadsEveryViewAndWritesNothing) {
    const std::string dsn = testing::FreshDatabase("dash");
    store::Migrate(dsn);
    const std::string script =
        testing::Slurp(testing::SourcePath("deploy/postgres/dashboard-role.sql"));
    ASSERT_FALSE(script.empty());
    std::vector<std::string> views;
    {
        pqxx::connection conn(dsn);
        pqxx::work tx(conn);
        tx.exec(script);
        tx.exec(script);  // idempotent: an upgrade runs it again
        tx.exec("DROP ROLE IF EXISTS dash_probe");
        tx.exec(
            "CREATE ROLE dash_probe LOGIN PASSWORD 'probe-password-1' IN ROLE hilnas_dashboard");
        for (const auto& row : tx.exec("SELECT viewname FROM pg_views WHERE schemaname = 'public' "
                                       "ORDER BY viewname")) {
            views.push_back(row[0].as<std::string>());
        }
        tx.commit();
    }
    ASSERT_GE(views.size(), 5u);
    for (const std::string& view : views) {  // a view added without a grant fails here
        EXPECT_EQ(RunAs(dsn, "dash_probe", "SELECT * FROM " + view + " LIMIT 1"), "") << view;
    }
    for (const char* table : {"jobs", "trials", "measurements", "trial_objectives"}) {
        EXPECT_EQ(RunAs(dsn, "dash_probe", std::string("SELECT count(*) FROM ") + table), "")
            << table;
    }
    // No models, no leases, no writes, no new tables.
    EXPECT_THAT(RunAs(dsn, "dash_probe", "SELECT * FROM artifacts"),
                HasSubstr("permission denied"));
    EXPECT_THAT(RunAs(dsn, "dash_probe", "SELECT * FROM trial_leases"),
                HasSubstr("permission denied"));
    EXPECT_THAT(RunAs(dsn, "dash_probe", "DELETE FROM jobs"), HasSubstr("permission denied"));
    EXPECT_THAT(RunAs(dsn, "dash_probe", "UPDATE trials SET state = state"),
                HasSubstr("permission denied"));
    EXPECT_THAT(RunAs(dsn, "dash_probe", "CREATE TABLE mine (x int)"),
                HasSubstr("permission denied"));
}

}  // namespace
}  // namespace hilnas
