// The job spec the controller accepts: every field a user can set is checked,
// each refusal naming the field (findings of an independent client's probes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/errors.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::controller {
namespace {

void ExpectRefused(const v1::JobSpec& spec, const std::string& field) {
    try {
        NormalizeJobSpec(spec);
        ADD_FAILURE() << "accepted; expected a refusal on " << field;
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), field) << e.what();
    }
}

TEST(JobSpec, EveryTrainingFieldIsChecked) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    v1::JobSpec s;
    s.mutable_training()->set_label_smoothing(nan);
    ExpectRefused(s, "spec.training.label_smoothing");
    s = {};
    s.mutable_training()->set_momentum(-5);
    ExpectRefused(s, "spec.training.momentum");
    s = {};
    s.mutable_training()->set_train_limit(-1);
    ExpectRefused(s, "spec.training.train_limit");
    s = {};
    s.mutable_training()->set_optimizer(static_cast<v1::TrainOptimizer>(77));
    ExpectRefused(s, "spec.training.optimizer");
    s = {};
    s.mutable_training()->set_learning_rate(std::numeric_limits<double>::infinity());
    ExpectRefused(s, "spec.training.learning_rate");
    s = {};
    s.mutable_training()->set_epochs(-2);
    ExpectRefused(s, "spec.training.epochs");
}

TEST(JobSpec, OptimiserConstraintsAndBudgetFieldsAreChecked) {
    v1::JobSpec s;
    s.mutable_optimizer()->set_acquisition(static_cast<v1::Acquisition>(99));
    ExpectRefused(s, "spec.optimizer.acquisition");
    s = {};
    s.mutable_optimizer()->set_population(-3);
    ExpectRefused(s, "spec.optimizer.population");
    s = {};
    s.mutable_optimizer()->set_ucb_beta(std::numeric_limits<double>::infinity());
    ExpectRefused(s, "spec.optimizer.ucb_beta");
    s = {};
    s.mutable_constraints()->set_max_latency_ms(std::numeric_limits<double>::infinity());
    ExpectRefused(s, "spec.constraints.max_latency_ms");
    s = {};
    s.mutable_budget()->mutable_max_wall_time()->set_seconds(int64_t{1} << 50);
    ExpectRefused(s, "spec.budget.max_wall_time");
    s = {};
    for (int i = 0; i < 3; ++i) s.add_reference_point(-1);
    ExpectRefused(s, "spec.reference_point");
}

TEST(JobSpec, NamesAndPathsAreBoundedAndPlain) {
    v1::JobSpec s;
    s.set_name("two\nlines");
    ExpectRefused(s, "spec.name");
    s = {};
    s.mutable_dataset()->set_path("../../../../etc/shadow");
    ExpectRefused(s, "spec.dataset.path");
    s = {};
    s.mutable_dataset()->set_path(std::string(10 << 20, 'p'));
    ExpectRefused(s, "spec.dataset.path");
    s = {};
    s.mutable_dataset()->set_name(std::string(10 << 20, 'd'));
    try {
        NormalizeJobSpec(s);
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "spec.dataset.name");
        EXPECT_LT(std::string(e.what()).size(), 300u) << "the input is not echoed whole";
    }
    // A plain spec still passes, with its defaults.
    EXPECT_NO_THROW(NormalizeJobSpec(v1::JobSpec()));
}

// ---------------------------------------------------------------- the YAML

using ::testing::HasSubstr;

// A spec as `hilnas submit` reads it.
v1::JobSpec FromYaml(const std::string& yaml) { return cli::JobSpecFromYaml(yaml, "job.yaml"); }

std::string YamlError(const std::string& yaml) {
    try {
        FromYaml(yaml);
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(JobSpecYaml, TheExamplesReadAndPass) {
    for (const char* file : {"examples/job.yaml", "examples/fashion-mnist-stm32f4.yaml"}) {
        std::ifstream in(testing::SourcePath(file));
        std::ostringstream text;
        text << in.rdbuf();
        const v1::JobSpec s = NormalizeJobSpec(FromYaml(text.str()));
        EXPECT_EQ(s.board_type(), "qemu-netduinoplus2") << file;
        EXPECT_EQ(s.search_space().block_kinds(0), v1::BLOCK_CONV) << file;
        EXPECT_EQ(s.seed(), 1u) << file;
    }
}

// One dialect: a job spec file read as a search space file
// (`hilnas arch sample --space`) is the space the controller searches.
TEST(JobSpecYaml, TheExamplesAreSearchSpaceFiles) {
    for (const char* file : {"examples/job.yaml", "examples/fashion-mnist-stm32f4.yaml"}) {
        std::ifstream in(testing::SourcePath(file));
        std::ostringstream text;
        text << in.rdbuf();
        EXPECT_EQ(cli::SearchSpaceFromYaml(text.str(), file),
                  SpaceOf(NormalizeJobSpec(FromYaml(text.str()))))
            << file;
    }
}

TEST(JobSpecYaml, ScalarsKeepTheirTypes) {
    const v1::JobSpec s = FromYaml(
        "name: '123'\n"
        "seed: 18446744073709551615\n"
        "reference_point: [1, 2.5e3, +7, .5]\n"
        "constraints: {max_macs: 9223372036854775807, max_error: !!str 0.25}\n");
    EXPECT_EQ(s.name(), "123");
    EXPECT_EQ(s.seed(), std::numeric_limits<uint64_t>::max());
    EXPECT_THAT(s.reference_point(), ::testing::ElementsAre(1, 2500, 7, 0.5));
    EXPECT_EQ(s.constraints().max_macs(), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(s.constraints().max_error(), 0.25);
}

// Found by tests/fuzz/fuzz_job_spec and fuzz_search_space, or while writing
// them: each of these escaped as a std::, nlohmann or yaml-cpp exception (or
// a seed above 2^63 could not be written at all).
TEST(JobSpecYaml, MalformedFilesAreInvalidArguments) {
    EXPECT_EQ(YamlError("name: caf\xe9\n"), "job.yaml: not UTF-8 text");
    EXPECT_THAT(YamlError("? [a, b]\n: 1\n"), HasSubstr("job.yaml: a key must be a field name"));
    EXPECT_THAT(YamlError("seed: 99999999999999999999\n"),
                HasSubstr("job.yaml: not a hilnas.v1.JobSpec"));
    EXPECT_THAT(YamlError("budget: {max_trials: inf}\n"),
                HasSubstr("job.yaml: not a hilnas.v1.JobSpec"));
    EXPECT_THAT(YamlError("name: [\n"), HasSubstr("job.yaml: not valid YAML"));
    // Aliases that expand a few lines into billions of values.
    std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i) {
        const std::string prev = "*a" + std::to_string(i - 1);
        bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 10; ++k) bomb += (k ? ", " : "") + prev;
        bomb += "]\n";
    }
    EXPECT_THAT(YamlError(bomb), HasSubstr("job.yaml: more than 100000 values"));
    EXPECT_THAT(YamlError("a: " + std::string(100, '[') + std::string(100, ']')),
                HasSubstr("job.yaml: nested more than 64 deep"));
}

}  // namespace
}  // namespace hilnas::controller
