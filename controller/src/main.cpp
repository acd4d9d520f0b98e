// hilnas-controller: serves SearchService, WorkService and FarmService.
//
//   hilnas-controller [--config FILE] [--listen HOST:PORT] [...]   serve
//   hilnas-controller migrate --database DSN                       apply sql/ migrations
//   hilnas-controller --help
//
// With `database` set, serving applies the migrations first (concurrent
// starts are safe: see hilnas/store/migrations.h).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/common/thread_pool.h"
#include "hilnas/common/timer.h"
#include "hilnas/common/version.h"
#include "hilnas/controller/auth.h"
#include "hilnas/controller/scheduler.h"
#include "hilnas/controller/server.h"
#include "hilnas/store/migrations.h"
#include "hilnas/store/store.h"
#include "service_base.h"

namespace {

void WritePortFile(const std::string& path, int port) {
    if (path.empty()) return;
    // Write then rename, so a reader never sees a half-written file.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << port << "\n";
        if (!out) throw hilnas::Unavailable("cannot write", "port_file");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw hilnas::Unavailable("cannot rename " + tmp, "port_file");
    }
}

void InitControllerLogging(const hilnas::Config& config) {
    using namespace hilnas;
    InitLogging("controller", LogOptionsFrom(config));
}

// Brings the database to this binary's schema; returns what it applied.
hilnas::store::MigrationReport ApplyMigrations(const std::string& dsn) {
    const hilnas::store::MigrationReport report = hilnas::store::Migrate(dsn);
    if (report.applied.empty()) {
        spdlog::info("database schema is up to date (version {})", report.version);
    } else {
        spdlog::info("database schema migrated to version {} ({} applied)", report.version,
                     report.applied.size());
    }
    return report;
}

int Migrate(const hilnas::Config& config) {
    using namespace hilnas;
    InitControllerLogging(config);
    if (config.positional().size() > 1) {
        throw InvalidArgument("unexpected argument (see --help)", config.positional()[1]);
    }
    const std::string& dsn = config.GetString("database");
    if (dsn.empty()) throw InvalidArgument("required by migrate", "database");
    const store::MigrationReport report = ApplyMigrations(dsn);
    for (const std::string& name : report.applied) std::cout << "applied " << name << "\n";
    std::cout << "schema version " << report.version << "\n";
    return 0;
}

int Serve(const hilnas::Config& config) {
    using namespace hilnas;
    InitControllerLogging(config);
    const controller::ServerOptions options = controller::ServerOptionsFrom(config);
    const std::string& dsn = config.GetString("database");
    if (dsn.empty()) {
        throw InvalidArgument("is required: a PostgreSQL connection string for the results store",
                              "database");
    }
    const controller::Authenticator auth(controller::TokenLists{
        config.GetStringList("auth.user_tokens"), config.GetStringList("auth.worker_tokens"),
        config.GetStringList("auth.agent_tokens"), config.GetStringList("auth.admin_tokens")});
    const int64_t threads = config.GetInt("executor.threads");
    if (threads < 2 || threads > 1024)
        throw InvalidArgument("must be in [2, 1024]", "executor.threads");

    // Block the shutdown signals in every thread; one thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    spdlog::info("hilnas-controller {} starting; config: {}", Version(), config.Describe());
    if (!auth.enabled()) spdlog::warn("no auth tokens configured: authentication is off");
    ApplyMigrations(dsn);
    store::StoreOptions store_options;
    store_options.dsn = dsn;
    store_options.pool_size = static_cast<int>(config.GetInt("store.pool_size"));
    store_options.statement_timeout = config.GetDuration("store.statement_timeout");
    store_options.default_lease = config.GetDuration("lease");
    store_options.max_artifact_bytes = config.GetInt("artifact.max_bytes");
    store::Store store(store_options);

    ThreadPool pool(static_cast<size_t>(threads), "executor");
    Timer timer(pool);
    controller::SchedulerOptions scheduler_options;
    scheduler_options.leader_dsn = dsn;
    scheduler_options.tick = config.GetDuration("scheduler.tick");
    scheduler_options.election_interval = config.GetDuration("scheduler.election_interval");
    scheduler_options.full_pass_interval = config.GetDuration("scheduler.full_pass_interval");
    if (scheduler_options.tick.count() <= 0) {
        throw InvalidArgument("must be positive", "scheduler.tick");
    }
    if (scheduler_options.election_interval.count() <= 0) {
        throw InvalidArgument("must be positive", "scheduler.election_interval");
    }
    // Whether this replica leads, for probes: the health service's status of
    // kLeaderHealthName (SERVING: leading), set once the server runs.
    controller::ControllerServer* serving = nullptr;
    std::mutex serving_mu;
    scheduler_options.on_leadership = [&serving, &serving_mu](bool leader) {
        std::lock_guard lock(serving_mu);
        if (serving != nullptr) serving->SetServingStatus(controller::kLeaderHealthName, leader);
    };
    controller::Scheduler scheduler(store, scheduler_options);

    controller::ServiceDeps deps;
    deps.store = &store;
    deps.auth = &auth;
    deps.pool = &pool;
    deps.timer = &timer;
    deps.options.lease = config.GetDuration("lease");
    deps.options.heartbeat_interval = config.GetDuration("heartbeat_interval");
    deps.options.max_wait = config.GetDuration("long_poll_max");
    deps.options.allow_dataset_paths = config.GetBool("jobs.allow_dataset_paths");
    deps.wake_scheduler = [&scheduler] { scheduler.Wake(); };

    controller::ControllerServer server(options, deps);
    server.Start();
    {
        std::lock_guard lock(serving_mu);
        server.SetServingStatus(controller::kLeaderHealthName, scheduler.leader());
        serving = &server;
    }
    if (config.GetBool("scheduler.enabled")) scheduler.Start();
    WritePortFile(config.GetString("port_file"), server.port());
    const std::string host = options.listen.substr(0, options.listen.rfind(':'));
    spdlog::info("serving on {}:{} ({}, scheduler {})", host, server.port(),
                 options.tls_cert.empty() ? "plaintext" : "TLS",
                 config.GetBool("scheduler.enabled") ? "on" : "off");

    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("{} received: shutting down (grace {} ms)",
                 received == SIGTERM ? "SIGTERM" : "SIGINT",
                 config.GetDuration("shutdown_grace").count());
    // No new trials; in-flight calls finish (the executor still runs); then the executor.
    scheduler.Stop();
    {
        std::lock_guard lock(serving_mu);
        serving = nullptr;
    }
    server.Shutdown(config.GetDuration("shutdown_grace"));
    timer.Shutdown();
    pool.Shutdown();
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        const hilnas::ConfigSchema schema = hilnas::controller::MakeConfigSchema();
        const hilnas::Config config =
            hilnas::Config::Load(schema, args, hilnas::ProcessEnvironment());
        if (config.help_requested()) {
            std::cout << "usage: hilnas-controller [options]          serve\n"
                         "       hilnas-controller migrate [options]  apply the database "
                         "migrations (needs --database) and exit\n\n"
                      << schema.Help();
            return 0;
        }
        if (!config.positional().empty() && config.positional().front() == "migrate") {
            return Migrate(config);
        }
        if (!config.positional().empty()) {
            throw hilnas::InvalidArgument("unexpected argument (see --help)",
                                          config.positional().front());
        }
        return Serve(config);
    } catch (const hilnas::Error& e) {
        std::cerr << "hilnas-controller: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "hilnas-controller: internal error: " << e.what() << "\n";
        return 70;
    }
}
