// The private PostgreSQL cluster every pg test and `hilnas local` stand on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <pqxx/pqxx>

#include "hilnas/common/errors.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

std::string PingDsn(int port) {
    return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres connect_timeout=2";
}

TEST(PgCluster, CreatesATableWritesAndReadsARow) {
    const std::string dsn = testing::FreshDatabase("rows");
    pqxx::connection conn(dsn);
    pqxx::work tx(conn);
    tx.exec0("CREATE TABLE boards (id text PRIMARY KEY, sram_bytes integer NOT NULL)");
    tx.exec_params0("INSERT INTO boards VALUES ($1, $2)", "nucleo-f446re", 131072);
    tx.commit();

    pqxx::connection again(dsn);
    pqxx::read_transaction rx(again);
    const pqxx::result rows = rx.exec("SELECT id, sram_bytes FROM boards");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0].as<std::string>(), "nucleo-f446re");
    EXPECT_EQ(rows[0][1].as<int>(), 131072);
}

TEST(PgCluster, DatabasesAreIsolatedPerTest) {
    const std::string a = testing::FreshDatabase("iso");
    const std::string b = testing::FreshDatabase("iso");
    ASSERT_NE(a, b);
    pqxx::connection ca(a);
    pqxx::work ta(ca);
    ta.exec0("CREATE TABLE only_in_a (x int)");
    ta.commit();
    pqxx::connection cb(b);
    pqxx::read_transaction tb(cb);
    EXPECT_EQ(tb.exec1("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")[0].as<int>(),
              0);
}

TEST(PgCluster, TcpConnectionsNeedThePassword) {
    // A cluster of its own, so this holds whatever HILNAS_TEST_PG_DSN names.
    store::PgCluster cluster(store::PgClusterOptions{});
    cluster.Start();
    EXPECT_THROW(pqxx::connection("host=127.0.0.1 port=" + std::to_string(cluster.port()) +
                                  " user=hilnas dbname=hilnas connect_timeout=5"),
                 pqxx::broken_connection);
    pqxx::connection with_password(cluster.Dsn());
    EXPECT_TRUE(with_password.is_open());
}

TEST(PgCluster, StopsAndRemovesATemporaryCluster) {
    store::PgCluster cluster(store::PgClusterOptions{});
    cluster.Start();
    const std::string dir = cluster.base_dir();
    const int port = cluster.port();
    ASSERT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
    EXPECT_EQ(PQping(PingDsn(port).c_str()), PQPING_OK);
    cluster.Stop();
    EXPECT_FALSE(cluster.running());
    EXPECT_FALSE(std::filesystem::exists(dir));
    EXPECT_EQ(PQping(PingDsn(port).c_str()), PQPING_NO_RESPONSE);
}

TEST(PgCluster, APersistentClusterKeepsItsDataAcrossRestarts) {
    testing::TempDir dir;
    // As root the server runs as `postgres`, which must be able to reach the directory.
    std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                                 std::filesystem::perms::group_exec |
                                                 std::filesystem::perms::others_exec);
    store::PgClusterOptions options;
    options.base_dir = (dir.path() / "pg").string();
    {
        store::PgCluster cluster(options);
        cluster.Start();
        pqxx::connection conn(cluster.Dsn());
        pqxx::work tx(conn);
        tx.exec0("CREATE TABLE jobs (name text)");
        tx.exec0("INSERT INTO jobs VALUES ('kept')");
        tx.commit();
    }  // stopped here
    store::PgCluster cluster(options);
    cluster.Start();
    pqxx::connection conn(cluster.Dsn());
    pqxx::read_transaction rx(conn);
    EXPECT_EQ(rx.exec1("SELECT name FROM jobs")[0].as<std::string>(), "kept");
    EXPECT_TRUE(std::filesystem::exists(options.base_dir));
}

TEST(PgCluster, BadDatabaseNamesAreRejected) {
    // Names are checked before any connection: a cluster that never started will do.
    store::PgCluster cluster(store::PgClusterOptions{});
    EXPECT_THROW(cluster.CreateDatabase("x; DROP DATABASE hilnas"), InvalidArgument);
    EXPECT_THROW(cluster.CreateDatabase(""), InvalidArgument);
    EXPECT_THROW(cluster.CreateDatabase("Upper"), InvalidArgument);
}

}  // namespace
}  // namespace hilnas
