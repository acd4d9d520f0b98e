#include "hilnas/store/migrations.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "hilnas/common/errors.h"
#include "pg_util.h"

namespace hilnas::store {

namespace {

// pg_advisory_lock key: "hilnas" + 0x0001, held while migrating (the other
// keys are listed in hilnas/store/leader_lock.h).
constexpr int64_t kMigrationLock = 0x68696c6e61730001;

constexpr const char* kCreateSchemaMigrations = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    sha256     text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
))sql";

constexpr const char* kAppliedMigrations =
    "SELECT version, name, sha256 FROM schema_migrations ORDER BY version";

constexpr const char* kDigest = "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') AS sha256";

constexpr const char* kRecordMigration =
    "INSERT INTO schema_migrations (version, name, sha256) "
    "VALUES ($1, $2, encode(sha256(convert_to($3, 'UTF8')), 'hex'))";

std::unique_ptr<pqxx::connection> Connect(const std::string& dsn) {
    try {
        return std::make_unique<pqxx::connection>(dsn);
    } catch (const std::exception& e) {
        // libpq's message names the host and port, never the password.
        std::string why = std::string(e.what()).substr(0, 300);
        std::replace(why.begin(), why.end(), '\n', ' ');
        std::replace(why.begin(), why.end(), '\t', ' ');
        while (!why.empty() && (why.back() == ' ' || why.back() == '\t')) why.pop_back();
        throw Unavailable("cannot connect to the database: " + why, "database");
    }
}

struct Applied {
    std::string name;
    std::string sha256;
};

std::map<int, Applied> ReadApplied(pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::map<int, Applied> applied;
    for (const pqxx::row& r : tx.exec(kAppliedMigrations)) {
        applied[r["version"].as<int>()] =
            Applied{r["name"].as<std::string>(), r["sha256"].as<std::string>()};
    }
    return applied;
}

}  // namespace

MigrationReport Migrate(const std::string& dsn, const MigrateOptions& options) {
    const std::vector<Migration>& migrations = EmbeddedMigrations();
    std::unique_ptr<pqxx::connection> conn = Connect(dsn);
    MigrationReport report;
    try {
        {
            pqxx::nontransaction tx(*conn);
            tx.exec_params("SELECT set_config('application_name', 'hilnas-migrate', false)");
            // Another process may be migrating: wait for it, up to lock_wait.
            tx.exec_params("SELECT set_config('lock_timeout', $1, false)",
                           std::to_string(options.lock_wait.count()));
            try {
                tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
            } catch (const pqxx::sql_error& e) {
                if (e.sqlstate() == "55P03") {
                    throw DeadlineExceeded(
                        "another process held the migration lock for more than " +
                        std::to_string(options.lock_wait.count()) + " ms");
                }
                throw;
            }
            tx.exec_params("SELECT set_config('lock_timeout', '0', false)");
            tx.exec_params("SELECT set_config('statement_timeout', $1, false)",
                           std::to_string(options.statement_timeout.count()));
            tx.exec0(kCreateSchemaMigrations);
        }
        std::map<int, Applied> applied = ReadApplied(*conn);
        const int newest_known = migrations.empty() ? 0 : migrations.back().version;
        for (const auto& [version, row] : applied) {
            if (version > newest_known) {
                throw FailedPrecondition(
                    "the database has schema version " + std::to_string(version) + " (" + row.name +
                    "), newer than this program's " + std::to_string(newest_known));
            }
        }
        for (const Migration& m : migrations) {
            const std::string sql(m.sql);
            auto it = applied.find(m.version);
            if (it != applied.end()) {
                pqxx::nontransaction tx(*conn);
                const std::string digest =
                    tx.exec_params1(kDigest, sql)["sha256"].as<std::string>();
                if (digest != it->second.sha256) {
                    throw FailedPrecondition("migration " + std::string(m.name) +
                                             " differs from the one applied to this database; "
                                             "released migrations must not be edited");
                }
                continue;
            }
            try {
                pqxx::work tx(*conn);
                tx.exec(sql);
                tx.exec_params0(kRecordMigration, m.version, std::string(m.name), sql);
                tx.commit();
            } catch (const pqxx::broken_connection&) {
                throw;
            } catch (const pqxx::sql_error& e) {
                spdlog::error("migration {} failed: {}", m.name, e.what());
                throw Internal("migration " + std::string(m.name) +
                               " failed and was rolled back: " + e.what());
            }
            spdlog::info("applied migration {}", m.name);
            report.applied.emplace_back(m.name);
        }
        report.version = newest_known;
        pqxx::nontransaction tx(*conn);
        tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
    } catch (const Error&) {
        throw;  // the lock goes with the connection
    } catch (const std::exception&) {
        RethrowAsError("Migrate");
    }
    return report;
}

int SchemaVersion(const std::string& dsn) {
    std::unique_ptr<pqxx::connection> conn = Connect(dsn);
    try {
        pqxx::nontransaction tx(*conn);
        const pqxx::row table =
            tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
        if (!table["present"].as<bool>()) return 0;
        const pqxx::row newest =
            tx.exec1("SELECT coalesce(max(version), 0) AS version FROM schema_migrations");
        return newest["version"].as<int>();
    } catch (const std::exception&) {
        RethrowAsError("SchemaVersion");
    }
}

}  // namespace hilnas::store
