// hilnas-bench-store: throughput of the store's lease queue.
//
//   hilnas-bench-store [--trials N] [--clients 1,4,8] [--durable]
//
// For each client count: a fresh database, one running job with N pending
// trials; the clients claim until the queue is empty (claims/s), then each
// completes the trials it claimed with two metrics and two objectives
// (completions/s). Figures are printed with their ratio to the first client
// count's, measured in the same run. It starts a private PostgreSQL cluster
// (fsync off unless --durable), or uses the server in HILNAS_TEST_PG_DSN.
// A benchmark, not a test: it prints, it asserts nothing.
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "hilnas/common/errors.h"
#include "hilnas/store/migrations.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    int trials = 4000;
    std::vector<int> clients = {1, 4, 8};
    bool durable = false;
};

Args ParseArgs(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--trials" && i + 1 < argc) {
            args.trials = std::atoi(argv[++i]);
        } else if (a == "--clients" && i + 1 < argc) {
            args.clients.clear();
            std::string list = argv[++i];
            for (size_t pos = 0; pos <= list.size();) {
                const size_t comma = std::min(list.find(',', pos), list.size());
                args.clients.push_back(std::atoi(list.substr(pos, comma - pos).c_str()));
                pos = comma + 1;
            }
        } else if (a == "--durable") {
            args.durable = true;
        } else {
            std::cerr << "usage: hilnas-bench-store [--trials N] [--clients 1,4,8] [--durable]\n";
            std::exit(2);
        }
    }
    if (args.trials < 1 || args.clients.empty()) std::exit(2);
    for (int c : args.clients) {
        if (c < 1 || c > 64) std::exit(2);
    }
    return args;
}

// Creates a database on the server of `dsn` and returns a DSN for it.
std::string CreateDatabase(const std::string& dsn, const std::string& name) {
    {
        pqxx::connection conn(dsn);
        pqxx::nontransaction tx(conn);
        tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name));
        tx.exec0("CREATE DATABASE " + tx.quote_name(name));
    }
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
    if (options == nullptr) {
        PQfreemem(error);
        throw hilnas::InvalidArgument("unparsable", "HILNAS_TEST_PG_DSN");
    }
    std::string out;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::string(o->keyword) == "dbname" || o->val == nullptr) continue;
        out += std::string(o->keyword) + "='" + o->val + "' ";
    }
    PQconninfoFree(options);
    return out + "dbname=" + name;
}

struct Figures {
    double claims_per_s = 0;
    double completions_per_s = 0;
};

Figures Run(const std::string& server_dsn, int clients, int trials) {
    using namespace hilnas;
    const std::string dsn = CreateDatabase(
        server_dsn, "hilnas_bench_" + std::to_string(::getpid()) + "_" + std::to_string(clients));
    store::Migrate(dsn);
    store::StoreOptions options;
    options.dsn = dsn;
    options.pool_size = clients;
    options.statement_timeout = std::chrono::seconds(30);
    store::Store store(options);

    v1::JobSpec spec;
    spec.set_name("bench");
    spec.set_board_type("qemu-netduinoplus2");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.mutable_measurement()->set_skip(true);
    const std::string job = store.CreateJob("bench", spec).job_id();
    store.SetJobState(job, v1::JOB_RUNNING, "bench");
    std::vector<store::NewTrial> batch(static_cast<size_t>(trials));
    for (int i = 0; i < trials; ++i) {
        batch[static_cast<size_t>(i)].candidate.mutable_training()->set_seed(
            static_cast<uint64_t>(i));
        batch[static_cast<size_t>(i)].candidate.add_encoding(i * 1e-4);
    }
    store.InsertTrials(job, batch);

    v1::WorkerCapabilities caps;
    caps.set_device(v1::DEVICE_CPU);
    std::vector<std::vector<std::string>> leases(static_cast<size_t>(clients));

    auto timed = [&](auto&& body) {
        std::latch start(clients + 1);
        std::vector<std::thread> threads;
        for (int c = 0; c < clients; ++c) {
            threads.emplace_back([&, c] {
                start.arrive_and_wait();
                body(c);
            });
        }
        start.arrive_and_wait();
        const auto t0 = Clock::now();
        for (auto& t : threads) t.join();
        return std::chrono::duration<double>(Clock::now() - t0).count();
    };

    const double claim_s = timed([&](int c) {
        const std::string worker = "bench-" + std::to_string(c);
        while (auto lease = store.ClaimTrial(worker, caps, std::chrono::minutes(30))) {
            leases[static_cast<size_t>(c)].push_back(lease->lease.lease_id());
        }
    });

    store::TrainingResult result;
    for (const char* name : {"int8_accuracy", "float_accuracy"}) {
        v1::Metric& m = result.metrics.emplace_back();
        m.set_name(name);
        m.set_value(0.9);
        m.set_source(v1::METRIC_SOURCE_EVALUATED);
    }
    for (v1::Objective o : {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES}) {
        v1::ObjectiveValue& v = result.objectives.emplace_back();
        v.set_objective(o);
        v.set_value(o == v1::OBJECTIVE_ERROR ? 0.1 : 100000);
        v.set_source(v1::METRIC_SOURCE_EVALUATED);
    }
    const double complete_s = timed([&](int c) {
        const std::string worker = "bench-" + std::to_string(c);
        for (const std::string& lease : leases[static_cast<size_t>(c)]) {
            store.CompleteTrial(worker, lease, result);
        }
    });

    size_t claimed = 0;
    for (const auto& l : leases) claimed += l.size();
    if (claimed != static_cast<size_t>(trials)) {
        throw Internal("claimed " + std::to_string(claimed) + " of " + std::to_string(trials));
    }
    return {trials / claim_s, trials / complete_s};
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = ParseArgs(argc, argv);
    try {
        std::unique_ptr<hilnas::store::PgCluster> cluster;
        std::string dsn;
        std::string where;
        if (const char* env = std::getenv("HILNAS_TEST_PG_DSN"); env != nullptr && *env != '\0') {
            dsn = env;
            where = "the server in HILNAS_TEST_PG_DSN";
        } else {
            hilnas::store::PgClusterOptions options;
            if (!args.durable) {
                options.settings = {
                    {"fsync", "off"}, {"synchronous_commit", "off"}, {"full_page_writes", "off"}};
            }
            cluster = std::make_unique<hilnas::store::PgCluster>(options);
            cluster->Start();
            dsn = cluster->Dsn("postgres");
            where = std::string("a private cluster") +
                    (args.durable ? " (durable commits)" : " (fsync off, as the tests run it)");
        }
        std::printf("hilnas-bench-store: %d trials per run, on %s, %u hardware threads\n",
                    args.trials, where.c_str(), std::thread::hardware_concurrency());
        std::printf("%8s %12s %8s %15s %8s\n", "clients", "claims/s", "ratio", "completions/s",
                    "ratio");
        Figures base;
        for (size_t i = 0; i < args.clients.size(); ++i) {
            const Figures f = Run(dsn, args.clients[i], args.trials);
            if (i == 0) base = f;
            std::printf("%8d %12.0f %7.2fx %15.0f %7.2fx\n", args.clients[i], f.claims_per_s,
                        f.claims_per_s / base.claims_per_s, f.completions_per_s,
                        f.completions_per_s / base.completions_per_s);
            std::fflush(stdout);
        }
        std::printf("ratio: against %d client%s in this run\n", args.clients[0],
                    args.clients[0] == 1 ? "" : "s");
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "hilnas-bench-store: " << e.what() << "\n";
        return 1;
    }
}
