// The controller's objectives: the error the search sees comes from the
// validation split only; a job's limits on measured and evaluated figures say
// which one a trial breaks, with the limit and the value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/controller/candidate.h"
#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/objectives.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace hilnas::controller {
namespace {

using ::testing::HasSubstr;

v1::ObjectiveValue Value(v1::Objective o, double v, v1::MetricSource s) {
    v1::ObjectiveValue x;
    x.set_objective(o);
    x.set_value(v);
    x.set_source(s);
    return x;
}

TEST(BreachedLimit, NamesTheLimitTheValueAndItsSource) {
    v1::JobSpec spec;
    spec.mutable_constraints()->set_max_latency_ms(10);
    spec.mutable_constraints()->set_max_energy_uj(500);
    spec.mutable_constraints()->set_max_error(0.3);
    spec.mutable_constraints()->set_max_sram_bytes(65536);

    const std::vector<v1::ObjectiveValue> measured = {
        Value(v1::OBJECTIVE_LATENCY_MS, 12.5, v1::METRIC_SOURCE_EMULATED),
        Value(v1::OBJECTIVE_SRAM_BYTES, 9000, v1::METRIC_SOURCE_EMULATED)};
    EXPECT_EQ(BreachedLimit(spec, measured),
              "latency_ms 12.5 (emulated) exceeds spec.constraints.max_latency_ms (10)");

    const std::vector<v1::ObjectiveValue> energy = {
        Value(v1::OBJECTIVE_LATENCY_MS, 9.5, v1::METRIC_SOURCE_MEASURED),
        Value(v1::OBJECTIVE_ENERGY_UJ, 620, v1::METRIC_SOURCE_ESTIMATED)};
    EXPECT_THAT(BreachedLimit(spec, energy),
                HasSubstr("energy_uj 620 (estimated) exceeds spec.constraints.max_energy_uj"));

    const std::vector<v1::ObjectiveValue> trained = {
        Value(v1::OBJECTIVE_ERROR, 0.35, v1::METRIC_SOURCE_EVALUATED)};
    EXPECT_THAT(BreachedLimit(spec, trained), HasSubstr("error 0.35 (evaluated) exceeds"));

    const std::vector<v1::ObjectiveValue> big = {
        Value(v1::OBJECTIVE_SRAM_BYTES, 70000, v1::METRIC_SOURCE_MEASURED)};
    EXPECT_THAT(BreachedLimit(spec, big), HasSubstr("max_sram_bytes (65536)"));
}

TEST(BreachedLimit, AtTheLimitOrWithoutLimitsNothingIsBreached) {
    v1::JobSpec spec;
    spec.mutable_constraints()->set_max_latency_ms(10);
    EXPECT_EQ(
        BreachedLimit(spec, {Value(v1::OBJECTIVE_LATENCY_MS, 10, v1::METRIC_SOURCE_MEASURED)}), "");
    // A figure the job sets no limit on, or a limit on a figure not yet known.
    EXPECT_EQ(BreachedLimit(spec, {Value(v1::OBJECTIVE_ENERGY_UJ, 1e9, v1::METRIC_SOURCE_ESTIMATED),
                                   Value(v1::OBJECTIVE_ERROR, 0.9, v1::METRIC_SOURCE_EVALUATED)}),
              "");
    EXPECT_EQ(BreachedLimit(v1::JobSpec(),
                            {Value(v1::OBJECTIVE_LATENCY_MS, 1e6, v1::METRIC_SOURCE_MEASURED)}),
              "");
}

TEST(LimitConstraints, AgreeWithBreachedLimitAndSayWhatIsNotKnown) {
    v1::JobSpec spec;
    spec.mutable_constraints()->set_max_error(0.3);
    spec.mutable_constraints()->set_max_latency_ms(10);
    spec.mutable_constraints()->set_max_flash_bytes(65536);
    spec.mutable_constraints()->set_max_macs(1000000);  // exact before training: not modelled
    google::protobuf::RepeatedPtrField<v1::ObjectiveValue> values;
    *values.Add() = Value(v1::OBJECTIVE_ERROR, 0.15, v1::METRIC_SOURCE_EVALUATED);
    *values.Add() = Value(v1::OBJECTIVE_LATENCY_MS, 12.5, v1::METRIC_SOURCE_EMULATED);
    const std::vector<double> c = LimitConstraints(spec, values);
    // error, latency, flash: in the spec's fixed order, one per limit set but MACs.
    ASSERT_EQ(c.size(), 3u);
    EXPECT_DOUBLE_EQ(c[0], 0.15 / 0.3 - 1.0);  // held: below zero
    EXPECT_DOUBLE_EQ(c[1], 12.5 / 10 - 1.0);   // broken: above zero
    EXPECT_TRUE(std::isnan(c[2]));             // not measured yet
    // A constraint is broken exactly when BreachedLimit names a limit.
    const std::vector<v1::ObjectiveValue> list(values.begin(), values.end());
    EXPECT_THAT(BreachedLimit(spec, list), HasSubstr("max_latency_ms"));
    values.Mutable(1)->set_value(10);
    EXPECT_EQ(LimitConstraints(spec, values)[1], 0.0);
    EXPECT_EQ(BreachedLimit(spec, std::vector<v1::ObjectiveValue>(values.begin(), values.end())),
              "");
    EXPECT_TRUE(LimitConstraints(v1::JobSpec(), values).empty());
}

v1::Metric Metric(const char* name, double value) {
    v1::Metric m;
    m.set_name(name);
    m.set_value(value);
    m.set_source(v1::METRIC_SOURCE_EVALUATED);
    return m;
}

const char* const kTiny = R"({"name": "t", "input": {"shape": [8, 8, 1]},
  "layers": [{"op": "conv2d", "filters": 2, "kernel": 3}, {"op": "global_avg_pool"},
             {"op": "dense", "units": 10}]})";

TEST(TrainingObjectives, TheErrorComesFromTheValidationSplitNeverTheTestSplit) {
    const v1::Int8Model model = artifact::RandomArtifact(arch::ModelFromJson(kTiny), 1);
    const auto objectives = TrainingObjectives(
        {Metric("int8_accuracy", 0.93), Metric("int8_val_accuracy", 0.81)}, model);
    double error = -1;
    for (const auto& o : objectives) {
        if (o.objective() == v1::OBJECTIVE_ERROR) error = o.value();
        EXPECT_NE(o.value(), 1 - 0.93) << "a test-split figure reached the optimiser";
    }
    EXPECT_DOUBLE_EQ(error, 1 - 0.81);
    // Test accuracy alone is not enough: the search never selects on it.
    try {
        TrainingObjectives({Metric("int8_accuracy", 0.93)}, model);
        FAIL() << "an error objective was made from the test split";
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "metrics");
        EXPECT_THAT(e.message(), HasSubstr("int8_val_accuracy"));
    }
}

TEST(ReferencePoint, FixedAtSubmissionFromTheLimitsAndTheSpace) {
    v1::JobSpec spec;
    spec.set_board_type("nucleo-f446re");
    for (auto o : {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES, v1::OBJECTIVE_SRAM_BYTES,
                   v1::OBJECTIVE_LATENCY_MS, v1::OBJECTIVE_ENERGY_UJ}) {
        spec.add_objectives(o);
    }
    spec.mutable_constraints()->set_max_sram_bytes(65536);
    spec.mutable_constraints()->set_max_latency_ms(50);
    const v1::JobSpec n = NormalizeJobSpec(spec);
    ASSERT_EQ(n.reference_point_size(), 5);
    EXPECT_EQ(n.reference_point(0), 1.0);                    // error: no max_error
    EXPECT_EQ(n.reference_point(1), 512.0 * 1024);           // the F446RE's flash
    EXPECT_EQ(n.reference_point(2), 65536.0);                // the spec's SRAM limit
    EXPECT_EQ(n.reference_point(3), 50.0);                   // the latency limit
    EXPECT_NEAR(n.reference_point(4), 3.3 * 38 * 50, 1e-9);  // that latency at run power
    EXPECT_EQ(ReferencePointOf(n),
              std::vector<double>(n.reference_point().begin(), n.reference_point().end()));
    // Without a latency limit, the largest model of the space bounds it: positive, finite.
    v1::JobSpec open = spec;
    open.mutable_constraints()->clear_max_latency_ms();
    const v1::JobSpec o = NormalizeJobSpec(open);
    EXPECT_GT(o.reference_point(3), 0);
    EXPECT_TRUE(std::isfinite(o.reference_point(3)));
    // A reference the user gives is kept, and must be positive.
    v1::JobSpec given = spec;
    for (double r : {0.5, 1e5, 3e4, 20.0, 1e4}) given.add_reference_point(r);
    EXPECT_EQ(NormalizeJobSpec(given).reference_point(1), 1e5);
    given.set_reference_point(0, -1);
    EXPECT_THROW(NormalizeJobSpec(given), InvalidArgument);
}

TEST(TrainingObjectives, ModelSizeCountsTheTrainedNonZeroWeightsExactly) {
    const arch::Model ir = arch::ModelFromJson(kTiny);
    v1::Int8Model artifact = artifact::RandomArtifact(ir, 2);
    // Every weight non-zero: the dense figure the cost model gives for the IR.
    for (auto& layer : *artifact.mutable_layers()) {
        std::string* w = layer.mutable_weights();
        std::fill(w->begin(), w->end(), '\x01');
    }
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(ir));
    auto size_of = [](const std::vector<v1::ObjectiveValue>& objectives) {
        for (const auto& o : objectives) {
            if (o.objective() == v1::OBJECTIVE_MODEL_SIZE_BYTES) return o.value();
        }
        return -1.0;
    };
    const auto dense = TrainingObjectives({Metric("int8_val_accuracy", 0.8)}, artifact);
    EXPECT_EQ(size_of(dense), static_cast<double>(cost.weight_bytes));
    EXPECT_EQ(artifact::NonzeroWeightBytes(artifact), cost.weight_bytes);
    // Pruning 10 weights of the conv layer saves exactly 10 bytes of model size.
    std::string* conv = artifact.mutable_layers(0)->mutable_weights();
    ASSERT_GE(conv->size(), 10u);
    std::fill(conv->begin(), conv->begin() + 10, '\0');
    const auto pruned = TrainingObjectives({Metric("int8_val_accuracy", 0.8)}, artifact);
    EXPECT_EQ(size_of(pruned), static_cast<double>(cost.weight_bytes - 10));
}

// Issue #11: a DNAS candidate's budgets are its own, below its start (the
// shrink gene), not only the job's limits, which every candidate the optimiser
// proposes already meets.
TEST(Candidate, ADnasGeneCarriesHowFarTheSearchShrinks) {
    v1::JobSpec spec;
    spec.mutable_constraints()->set_max_macs(5'000'000);
    arch::SearchSpace space;
    space.dnas = true;
    space.dnas_shrink = {0.2, 0.8, false};
    std::mt19937_64 rng(7);
    int with = 0, without = 0;
    for (int i = 0; i < 64; ++i) {
        const arch::Point p = arch::Sample(space, rng);
        const v1::Candidate c = MakeCandidate(spec, space, p, "c", std::nullopt, "");
        if (!p.dnas) {
            EXPECT_FALSE(c.dnas().enabled());
            ++without;
            continue;
        }
        ++with;
        ASSERT_TRUE(c.dnas().enabled());
        EXPECT_GE(c.dnas().shrink(), 0.2);
        EXPECT_LE(c.dnas().shrink(), 0.8);
        EXPECT_DOUBLE_EQ(c.dnas().shrink(), p.dnas_shrink);
        EXPECT_EQ(c.dnas().max_macs(), 5'000'000);  // the job's limit still caps it
    }
    EXPECT_GT(with, 0);
    EXPECT_GT(without, 0);
}

}  // namespace
}  // namespace hilnas::controller
