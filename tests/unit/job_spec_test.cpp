// The job spec the controller accepts: every field a user can set is checked,
// each refusal naming the field (findings of an independent client's probes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "hilnas/common/errors.h"
#include "hilnas/controller/job_spec.h"
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

}  // namespace
}  // namespace hilnas::controller
