#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>

#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/pg.h"

namespace hilnas::testing {

namespace {

std::unique_ptr<store::PgCluster>& Cluster() {
    static std::unique_ptr<store::PgCluster> cluster;
    return cluster;
}

std::string OutsideDsn() {
    const char* dsn = std::getenv("HILNAS_TEST_PG_DSN");
    return dsn == nullptr ? std::string() : std::string(dsn);
}

// `dsn` with its dbname replaced.
std::string WithDatabase(const std::string& dsn, const std::string& database) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
    if (options == nullptr) {
        std::string message = error != nullptr ? error : "unparsable DSN";
        PQfreemem(error);
        throw std::runtime_error("HILNAS_TEST_PG_DSN: " + message);
    }
    std::string out;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (std::string(o->keyword) == "dbname" || o->val == nullptr) continue;
        out += std::string(o->keyword) + "='" + o->val + "' ";
    }
    PQconninfoFree(options);
    return out + "dbname=" + database;
}

}  // namespace

// Called from pg_main.cpp's test environment.
void StartPrivateCluster() {
    if (!OutsideDsn().empty()) return;
    store::PgClusterOptions options;
    options.settings = {
        {"fsync", "off"}, {"synchronous_commit", "off"}, {"full_page_writes", "off"}};
    Cluster() = std::make_unique<store::PgCluster>(options);
    Cluster()->Start();
}

void StopPrivateCluster() { Cluster().reset(); }

store::PgCluster* PrivateCluster() { return Cluster().get(); }

std::string FreshDatabase(const std::string& prefix) {
    static std::atomic<int> counter{0};
    const std::string name =
        prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    if (Cluster()) return Cluster()->CreateDatabase(name);
    const std::string outside = OutsideDsn();
    if (outside.empty()) throw std::runtime_error("no PostgreSQL: link hilnas_test_pg_main");
    pqxx::connection conn(outside);
    pqxx::nontransaction tx(conn);
    tx.exec0("CREATE DATABASE " + tx.quote_name(name));
    return WithDatabase(outside, name);
}

}  // namespace hilnas::testing
