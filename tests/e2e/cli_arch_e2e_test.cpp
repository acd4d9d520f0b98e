// `hilnas arch analyze` and `hilnas arch sample` as a user runs them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "hilnas/arch/space.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/controller/job_spec.h"
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
                                        "block_kinds: [BLOCK_INVERTED_BOTTLENECK]\n"
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

std::string ReadSource(const std::string& file) {
    std::ifstream in(testing::SourcePath(file));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// `hilnas arch sample --space JOB.yaml` samples the very space that the
// controller searches for that job (hilnas submit: the YAML, then
// NormalizeJobSpec and SpaceOf), from the whole spec or its search_space
// section alone.
TEST(CliArch, SampleReadsTheSpaceOfAJobSpec) {
    for (const char* file : {"examples/job.yaml", "examples/fashion-mnist-stm32f4.yaml"}) {
        const v1::JobSpec written = cli::JobSpecFromYaml(ReadSource(file), file);
        const v1::JobSpec spec = controller::NormalizeJobSpec(written);
        const arch::SearchSpace space = controller::SpaceOf(spec);
        std::mt19937_64 rng(3);
        std::string expected;
        for (int i = 0; i < 8; ++i) {
            const arch::Point p = arch::Sample(space, rng);
            ASSERT_EQ(arch::Normalize(space, p), p) << file;
            expected +=
                arch::ModelToJson(arch::BuildModel(space, p, "sample-" + std::to_string(i)));
            expected += "\n";
        }
        const ProcessResult whole = Hilnas(
            {"arch", "sample", "--space", testing::SourcePath(file), "--n", "8", "--seed", "3"});
        ASSERT_EQ(whole.exit_code, 0) << whole.err;
        EXPECT_EQ(whole.out, expected) << file;

        // The section as written, alone (as JSON, which is YAML too).
        std::string section;
        google::protobuf::util::JsonPrintOptions options;
        options.preserve_proto_field_names = true;
        ASSERT_TRUE(
            google::protobuf::util::MessageToJsonString(written.search_space(), &section, options)
                .ok());
        testing::TempDir dir;
        const ProcessResult bare =
            Hilnas({"arch", "sample", "--space", dir.Write("space.yaml", section), "--dataset",
                    spec.dataset().name(), "--n", "8", "--seed", "3"});
        ASSERT_EQ(bare.exit_code, 0) << bare.err;
        EXPECT_EQ(bare.out, expected) << file << ": " << section;
    }
}

}  // namespace
}  // namespace hilnas
