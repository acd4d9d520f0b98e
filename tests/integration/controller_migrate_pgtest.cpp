// `hilnas-controller migrate`: the real binary, run twice at once against one
// empty database, with the DSN in the environment (not on the command line).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <thread>

#include "hilnas/common/subprocess.h"
#include "hilnas/store/migrations.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;

ProcessResult Controller(const std::vector<std::string>& args,
                         const std::map<std::string, std::string>& env) {
    ProcessOptions options;
    options.argv = {testing::BuildPath("controller/hilnas-controller")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = env;
    options.timeout = std::chrono::minutes(2);
    return RunProcess(options);
}

TEST(ControllerMigrate, TwoConcurrentRunsBothSucceedAndApplyEachMigrationOnce) {
    const std::string dsn = testing::FreshDatabase("ctlmig");
    ProcessResult results[2];
    std::thread first([&] { results[0] = Controller({"migrate"}, {{"HILNAS_DATABASE", dsn}}); });
    std::thread second([&] { results[1] = Controller({"migrate"}, {{"HILNAS_DATABASE", dsn}}); });
    first.join();
    second.join();

    std::map<std::string, int> applied;
    for (const ProcessResult& r : results) {
        ASSERT_TRUE(r.ok()) << r.Describe() << ": " << r.err;
        std::istringstream lines(r.out);
        for (std::string line; std::getline(lines, line);) {
            if (line.starts_with("applied ")) ++applied[line.substr(8)];
        }
        EXPECT_THAT(r.out, HasSubstr("schema version " +
                                     std::to_string(store::EmbeddedMigrations().back().version)));
    }
    for (const store::Migration& m : store::EmbeddedMigrations()) {
        EXPECT_EQ(applied[std::string(m.name)], 1) << m.name;
    }
    EXPECT_EQ(store::SchemaVersion(dsn), store::EmbeddedMigrations().back().version);

    // A third run has nothing to do.
    const ProcessResult again = Controller({"migrate", "--database", dsn}, {});
    ASSERT_TRUE(again.ok()) << again.err;
    EXPECT_THAT(again.out, ::testing::Not(HasSubstr("applied")));
}

TEST(ControllerMigrate, NeedsADatabase) {
    const ProcessResult r = Controller({"migrate"}, {});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("database: required"));
}

}  // namespace
}  // namespace hilnas
