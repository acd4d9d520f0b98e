// Schema migrations: the numbered files in sql/ (NNNN_name.sql), embedded in
// the library at build time and applied in version order.
//
// Each migration runs in its own transaction and is recorded in
// schema_migrations with the sha256 of its text. Migrate() holds a
// PostgreSQL advisory lock while it works, so any number of processes may call
// it at once (controller replicas starting together): one applies what is
// missing, the others wait and then find nothing to do.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace hilnas::store {

struct Migration {
    int version;            // NNNN
    std::string_view name;  // "0001_core"
    std::string_view sql;
};

// Every migration built into this binary, in increasing version order.
const std::vector<Migration>& EmbeddedMigrations();

struct MigrateOptions {
    // How long to wait for another process's migration run to finish.
    std::chrono::milliseconds lock_wait{120000};
    // Statement timeout while a migration runs (0: none).
    std::chrono::milliseconds statement_timeout{0};
};

struct MigrationReport {
    std::vector<std::string> applied;  // names applied by this call, in order
    int version = 0;                   // the schema version afterwards
};

// Brings the database named by `dsn` to the newest embedded version.
// Throws Unavailable when it cannot connect, DeadlineExceeded when another run
// holds the lock past lock_wait, FailedPrecondition when the database has a
// migration that differs from the embedded one or is newer than this binary,
// and Internal when a migration fails (that migration is rolled back).
MigrationReport Migrate(const std::string& dsn, const MigrateOptions& options = {});

// The newest version recorded in schema_migrations (0 when none).
int SchemaVersion(const std::string& dsn);

}  // namespace hilnas::store
