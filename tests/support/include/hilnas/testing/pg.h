// PostgreSQL for tests. A pg test binary links hilnas_test_pg_main, which
// starts one private cluster (initdb in a temporary directory, a loopback
// port, fsync off) before the first test and removes it after the last. Set
// HILNAS_TEST_PG_DSN to use an existing server instead.
#pragma once

#include <string>

namespace hilnas::store {
class PgCluster;
}

namespace hilnas::testing {

// A new, empty database for one test; returns its DSN.
std::string FreshDatabase(const std::string& prefix = "t");

// The private cluster; nullptr when HILNAS_TEST_PG_DSN names an outside server.
store::PgCluster* PrivateCluster();

}  // namespace hilnas::testing
