// `hilnas arch analyze` and `hilnas arch sample` as a user runs them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hilnas/common/subprocess.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ProcessResult Hilnas(std::vector<std::string> args) {
    ProcessOptions options;
    options.argv = {testing::BuildPath("services/cli/hilnas")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.timeout = 60s;
    return RunProcess(options);
}

int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(CliArch, AnalyzePrintsTheCostModelAsOneJsonObject) {
    const ProcessResult r = Hilnas({"arch", "analyze", testing::SourcePath("examples/tiny.json")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Lines(r.out), 1);
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key :
         {"params", "macs", "weight_bytes", "working_memory_bytes", "arena_bytes", "flash_bytes"}) {
        EXPECT_TRUE(j.at(key).is_number_integer()) << key;
    }
    EXPECT_FALSE(j.contains("layers"));
    EXPECT_GT(j.at("flash_bytes").get<int64_t>(), j.at("weight_bytes").get<int64_t>());

    const ProcessResult rows =
        Hilnas({"arch", "analyze", testing::SourcePath("examples/tiny.json"), "--layers"});
    ASSERT_EQ(rows.exit_code, 0);
    const auto layers = nlohmann::json::parse(rows.out).at("layers");
    ASSERT_EQ(layers.size(), 7u);
    int64_t params = 0;
    for (const auto& row : layers) params += row.at("params").get<int64_t>();
    EXPECT_EQ(params, j.at("params").get<int64_t>());  // the rows add up to the total
}

TEST(CliArch, AnInvalidModelIsOneLineAndANonZeroExit) {
    testing::TempDir dir;
    const std::string bad = dir.Write("bad.json", R"({"input": {"shape": [7, 7, 1]}, "layers": [
          {"id": "d1", "op": "conv2d", "filters": 4, "kernel": 9},
          {"op": "flatten"}, {"op": "dense", "units": 2}]})");
    const ProcessResult r = Hilnas({"arch", "analyze", bad});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("layer 0 (d1): kernel 9x9 larger than its 7x7 input"));
    EXPECT_THAT(r.err, HasSubstr(bad));
    EXPECT_TRUE(r.out.empty());

    const ProcessResult missing = Hilnas({"arch", "analyze", dir / "nope.json"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_THAT(missing.err, HasSubstr("cannot read the file"));
}

TEST(CliArch, SampleIsSeededAndPrintsValidModels) {
    testing::TempDir dir;
    const std::string space = dir.Write("space.yaml",
                                        "blocks: {min: 2, max: 3}\n"
                                        "block_kinds: [inverted_bottleneck]\n"
                                        "channels: {min: 8, max: 16}\n");
    const ProcessResult a = Hilnas({"arch", "sample", "--space", space, "--n", "5", "--seed", "1"});
    const ProcessResult b = Hilnas({"arch", "sample", "--space", space, "--n", "5", "--seed", "1"});
    const ProcessResult c = Hilnas({"arch", "sample", "--space", space, "--n", "5", "--seed", "2"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(a.out, c.out);
    ASSERT_EQ(Lines(a.out), 5);
    std::istringstream lines(a.out);
    for (std::string line; std::getline(lines, line);) {
        // Each line is a model the analyzer accepts.
        const std::string file = dir.Write("m.json", line);
        const ProcessResult r = Hilnas({"arch", "analyze", file});
        EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << line;
        EXPECT_THAT(line, HasSubstr("\"b0_expand\""));
    }
    const ProcessResult bad =
        Hilnas({"arch", "sample", "--space", dir.Write("b.yaml", "blocks: {min: 3, max: 1}\n")});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("blocks.max: must be >= min (3)"));
}

}  // namespace
}  // namespace hilnas
