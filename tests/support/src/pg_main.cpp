#include <gtest/gtest.h>

namespace hilnas::testing {
void StartPrivateCluster();
void StopPrivateCluster();
}  // namespace hilnas::testing

namespace {

class PgEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { hilnas::testing::StartPrivateCluster(); }
    void TearDown() override { hilnas::testing::StopPrivateCluster(); }
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);
    return RUN_ALL_TESTS();
}
