// A private PostgreSQL cluster: initdb into a directory of its own, a server
// on a loopback port, stopped and (when temporary) removed afterwards. Tests
// use it so that no test depends on a system-wide database; `hilnas local`
// uses it for a one-machine stack.
//
// Layout of the base directory:
//   data/          the cluster (PGDATA)
//   socket/        the Unix socket directory
//   postgres.log   the server's log
//   password       the superuser's password (mode 0600)
// Connections over TCP need the password (scram-sha-256); the server listens
// on 127.0.0.1 only. initdb refuses to run as root, so as root the cluster
// runs as the `postgres` user (or PgClusterOptions::run_as).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace hilnas {
class Process;
}

namespace hilnas::store {

struct PgClusterOptions {
    std::string base_dir;  // empty: a fresh temporary directory, removed by Stop()
    std::string bin_dir;   // empty: $HILNAS_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin
    int port = 0;          // 0: a free loopback port
    std::string user = "hilnas";      // the superuser initdb creates
    std::string database = "hilnas";  // created at start when missing
    std::string run_as;               // empty: ourselves, or "postgres" when we are root
    std::chrono::milliseconds start_timeout{60000};
    // postgresql.conf settings passed at start, e.g. {"fsync", "off"} for tests.
    std::map<std::string, std::string> settings;
};

class PgCluster {
  public:
    explicit PgCluster(PgClusterOptions options);
    ~PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    // Initialises the cluster if the data directory is new, starts the server
    // and waits until it accepts connections. Throws Unavailable with the
    // server log's last lines when it does not come up.
    void Start();
    // Fast shutdown; removes the base directory if it was temporary.
    void Stop();
    bool running() const;

    // A libpq connection string for `database` (empty: the default database).
    std::string Dsn(const std::string& database = {}) const;
    // Creates `database` unless it exists; returns its DSN.
    std::string CreateDatabase(const std::string& database);

    int port() const { return port_; }
    const std::string& base_dir() const { return base_dir_; }

  private:
    void InitDb();
    void StartServer();

    PgClusterOptions options_;
    std::string base_dir_;
    bool temporary_ = false;
    std::string bin_dir_;
    std::string password_;
    int port_ = 0;
    std::unique_ptr<Process> server_;
};

// A free TCP port on 127.0.0.1 (bound and released, so a race is possible but rare).
int FreeLoopbackPort();

}  // namespace hilnas::store
