// Pruning reaches its target (Bayesian compression: and removes what its prior
// drives out); DNAS under tight budgets yields an IR whose cost-model figures
// respect them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <utility>

#include "dnas.h"
#include "export.h"
#include "fit.h"
#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "network.h"
#include "prune.h"
#include "shrink.h"
#include "test_util.h"

namespace hilnas::trainer {
namespace {

const Dataset& Small() {
    static const Dataset data = [] {
        DatasetOptions o;
        o.train_limit = 3000;
        o.validation_limit = 500;
        o.test_limit = 1000;
        return LoadDataset(o);
    }();
    return data;
}

FitOptions OneEpoch() {
    FitOptions f;
    f.epochs = 1;
    f.learning_rate = 3e-3;
    f.evaluate = false;
    return f;
}

TEST(Prune, SparseVariationalDropoutReachesItsTargetSparsity) {
    torch::manual_seed(1);
    Network net(testing::SmallLeNet());
    Fit(*net, Small(), OneEpoch(), {}, nullptr);
    EXPECT_EQ(Sparsity(*net), 0.0);
    SparseVdOptions o;
    o.target_sparsity = 0.8;
    const double reached = SparseVdPrune(*net, Small(), OneEpoch(), o, {}, nullptr);
    EXPECT_GE(reached, 0.8);
    EXPECT_FALSE(net->sparse_vd());
    EXPECT_GT(Accuracy(*net, Small().test, torch::kCPU), 0.5);
    // The masks survive folding and quantisation: the artifact's zeros and its IR say so.
    net->FoldBatchNorm();
    Calibrate(*net, Small().train, torch::kCPU, 4);
    const v1::Int8Model a = ExportInt8(*net, "test");
    int64_t zeros = 0, total = 0;
    for (int i = 0; i < a.layers_size(); ++i) {
        for (char b : a.layers(i).weights()) {
            zeros += b == 0 ? 1 : 0;
            ++total;
        }
    }
    EXPECT_GE(static_cast<double>(zeros) / static_cast<double>(total), 0.8);
    const arch::Model pruned = arch::ModelFromProto(a.model());
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(pruned));
    arch::Model unpruned = pruned;
    for (arch::Layer& l : unpruned.layers) l.nonzero_weights.reset();
    const double dense =
        static_cast<double>(arch::ComputeCost(arch::Analyze(unpruned)).weight_bytes);
    EXPECT_LT(static_cast<double>(cost.nonzero_weight_bytes), 0.5 * dense);
    // The firmware stores these weights sparse (a bitmap plus the non-zero
    // values): at 80% zeros 0.325 of the dense bytes.
    EXPECT_LT(static_cast<double>(cost.weight_bytes), 0.4 * dense);
    // The IR carries each layer's exact count of non-zero int8 weights (which
    // ValidateArtifact holds the weights to), so the SpArSe size is exact.
    for (int i = 0; i < a.layers_size(); ++i) {
        if (a.layers(i).weights().empty()) continue;
        ASSERT_TRUE(a.model().layers(i).has_nonzero_weights()) << "layer " << i;
    }
    EXPECT_NO_THROW(artifact::ValidateArtifact(a));
    EXPECT_EQ(cost.nonzero_weight_bytes, artifact::NonzeroWeightBytes(a));
}

TEST(Prune, ChannelPruningShrinksTheIr) {
    torch::manual_seed(2);
    Network net(testing::SmallLeNet(8, 16, 32));
    Fit(*net, Small(), OneEpoch(), {}, nullptr);
    const int64_t before = arch::ComputeCost(net->graph()).weight_bytes;
    Network small = ChannelPrune(*net, 0.5);
    FitOptions finetune = OneEpoch();
    finetune.epochs = 2;
    EXPECT_EQ(small->model().layers[0].filters, 4);
    EXPECT_EQ(small->model().layers[2].filters, 8);
    EXPECT_EQ(small->model().layers[5].units, 16);
    EXPECT_EQ(small->model().layers[6].units, 10);
    EXPECT_LT(static_cast<double>(arch::ComputeCost(small->graph()).weight_bytes),
              0.6 * static_cast<double>(before));
    Fit(*small, Small(), finetune, {}, nullptr);
    EXPECT_GT(Accuracy(*small, Small().test, torch::kCPU), 0.5);
}

int64_t TotalChannels(const NetworkImpl& net) {
    const std::vector<bool> shrinkable = ShrinkableLayers(net.graph());
    int64_t n = 0;
    for (int i = 0; i < net.num_layers(); ++i) {
        if (shrinkable[static_cast<size_t>(i)]) n += net.out_channels(i);
    }
    return n;
}

TEST(Prune, BayesianCompressionShrinksTheIrAndStillClassifies) {
    torch::manual_seed(4);
    Network net(testing::SmallLeNet(8, 16, 32));
    Fit(*net, Small(), OneEpoch(), {}, nullptr);
    const arch::CostReport before = arch::ComputeCost(net->graph());
    const int64_t channels = TotalChannels(*net);
    BayesianCompressionOptions o;
    o.target_sparsity = 0.5;
    BayesianCompressionResult r = BayesianCompress(*net, Small(), OneEpoch(), o, {}, nullptr);
    EXPECT_FALSE(net->group_scales());
    const arch::CostReport after = arch::ComputeCost(r.network->graph());
    EXPECT_LT(after.params, before.params);
    EXPECT_LT(after.weight_bytes, before.weight_bytes);
    // The target is a floor, and the result says how far it went.
    EXPECT_GE(r.channels_removed, 0.5);
    EXPECT_LE(r.channels_past_threshold, r.channels_removed);
    EXPECT_NEAR(
        r.channels_removed,
        1.0 - static_cast<double>(TotalChannels(*r.network)) / static_cast<double>(channels),
        1e-12);
    EXPECT_EQ(r.network->model().layers[6].units, 10);  // the classifier keeps its classes
    Fit(*r.network, Small(), OneEpoch(), {}, nullptr);
    EXPECT_GT(Accuracy(*r.network, Small().test, torch::kCPU), 0.5);
}

TEST(Prune, BayesianCompressionRemovesTheChannelsThePriorDrivesOut) {
    torch::manual_seed(5);
    Network net(testing::SmallLeNet(8, 16, 32));
    Fit(*net, Small(), OneEpoch(), {}, nullptr);
    // Dead channels: conv layer 2's channels 3 and 11 output zeros and nothing
    // reads them, likewise dense layer 5's units 7 and 20. Nothing but the
    // prior moves their scales.
    {
        torch::NoGradGuard no_grad;
        LayerState& conv = net->layer(2);
        LayerState& fc = net->layer(5);
        LayerState& out = net->layer(6);
        const torch::Tensor columns = torch::arange(fc.weight.size(1)) % 16;
        for (int64_t c : {3, 11}) {
            conv.weight[c].zero_();
            conv.bias[c].zero_();
            conv.bn_weight[c].zero_();
            conv.bn_bias[c].zero_();
            fc.weight.index_put_({torch::indexing::Slice(), columns == c}, 0.0);
        }
        for (int64_t u : {7, 20}) {
            fc.weight[u].zero_();
            fc.bias[u].zero_();
            out.weight.index_put_({torch::indexing::Slice(), u}, 0.0);
        }
    }
    BayesianCompressionOptions o;  // no target: the threshold alone decides
    o.log_sigma_lr_factor = 200;   // far enough within this test's 96 steps
    FitOptions f = OneEpoch();
    f.epochs = 4;
    BayesianCompressionResult r = BayesianCompress(*net, Small(), f, o, {}, nullptr);
    ASSERT_GT(r.channels_past_threshold, 0);
    EXPECT_DOUBLE_EQ(r.channels_removed, r.channels_past_threshold);
    EXPECT_LE(r.network->model().layers[2].filters, 14);
    EXPECT_LE(r.network->model().layers[5].units, 30);
    // None of the dead channels survived: every kept one still computes something.
    torch::NoGradGuard no_grad;
    const LayerState& conv = r.network->layer(2);
    const torch::Tensor conv_live = conv.weight.abs().flatten(1).sum(1) * conv.bn_weight.abs();
    EXPECT_TRUE((conv_live > 0).all().item<bool>()) << conv_live;
    const torch::Tensor fc_live = r.network->layer(5).weight.abs().sum(1);
    EXPECT_TRUE((fc_live > 0).all().item<bool>()) << fc_live;
}

TEST(Prune, BayesianCompressionMeetsItsTargetAndKeepsEveryLayer) {
    torch::manual_seed(6);
    Network net(testing::SmallLeNet(8, 16, 32));
    const int64_t channels = TotalChannels(*net);
    FitOptions f = OneEpoch();
    f.epochs = 1;
    BayesianCompressionOptions o;
    o.target_sparsity = 0.7;
    BayesianCompressionResult r = BayesianCompress(*net, Small(), f, o, {}, nullptr);
    const int64_t kept = TotalChannels(*r.network);
    EXPECT_LE(static_cast<double>(kept), 0.3 * static_cast<double>(channels));
    // The target holds in each layer, not only over all of them: 8, 16 and 32
    // channels keep at most 30% each.
    const std::pair<int, int> widths[] = {{0, 8}, {2, 16}, {5, 32}};
    for (const auto& [layer, width] : widths) {
        EXPECT_LE(r.network->out_channels(layer), width - static_cast<int>(std::ceil(0.7 * width)))
            << "layer " << layer;
        EXPECT_GE(r.network->out_channels(layer), 1) << "layer " << layer;
    }
    // Asking for every channel still leaves one per layer.
    Network all(testing::SmallLeNet(8, 16, 32));
    o.target_sparsity = 1.0;
    BayesianCompressionResult r_all = BayesianCompress(*all, Small(), f, o, {}, nullptr);
    for (int i : {0, 2, 5}) EXPECT_EQ(r_all.network->out_channels(i), 1) << "layer " << i;
    EXPECT_EQ(r_all.network->out_channels(6), 10);
    EXPECT_GT(Accuracy(*r_all.network, Small().test, torch::kCPU), 0.0);  // it runs
}

TEST(Dnas, ATightBudgetYieldsAnIrWithinIt) {
    torch::manual_seed(3);
    const arch::Model supernet = testing::SmallLeNet(16, 32, 64);
    const arch::CostReport full = arch::ComputeCost(arch::Analyze(supernet));
    DnasOptions o;
    o.channel_groups = 4;
    o.max_flash_bytes = full.code_bytes + (full.flash_bytes - full.code_bytes) / 3;
    o.max_sram_bytes = full.arena_bytes * 2 / 3;
    o.max_macs = full.macs / 3;
    EXPECT_FALSE(WithinBudget(supernet, o));
    std::vector<Progress> seen;
    DnasResult r = RunDnas(
        Network(supernet), Small(), OneEpoch(), o, [&](const Progress& p) { seen.push_back(p); },
        nullptr);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.back().phase, "dnas");
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(r.model));
    EXPECT_LE(cost.flash_bytes, o.max_flash_bytes);
    EXPECT_LE(cost.arena_bytes, o.max_sram_bytes);
    EXPECT_LE(cost.macs, o.max_macs);
    EXPECT_EQ(r.network->model(), r.model);
    // The chosen widths come from the channel-group options.
    EXPECT_LT(r.model.layers[2].filters, 32);
    EXPECT_EQ(r.model.layers[2].filters % 8, 0);
    // The discrete network inherits the supernet's weights and keeps learning.
    Fit(*r.network, Small(), OneEpoch(), {}, nullptr);
    EXPECT_GT(Accuracy(*r.network, Small().test, torch::kCPU), 0.5);
}

TEST(Dnas, ExpectedCostsFollowTheCostModel) {
    const arch::Graph g = arch::Analyze(testing::EveryOp());
    const ExpectedCost e = ComputeExpectedCost(g, {});
    const arch::CostReport c = arch::ComputeCost(g);
    EXPECT_DOUBLE_EQ(e.macs.item<double>(), static_cast<double>(c.macs));
    EXPECT_DOUBLE_EQ(e.weight_bytes.item<double>(), static_cast<double>(c.weight_bytes));
    EXPECT_DOUBLE_EQ(e.working_memory_bytes.item<double>(),
                     static_cast<double>(c.working_memory_bytes));
    // With a width as a variable, the costs have gradients.
    const arch::Graph lenet = arch::Analyze(testing::SmallLeNet(8, 16, 32));
    std::vector<torch::Tensor> widths(7);
    widths[2] =
        torch::full({}, 16.0, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true));
    const ExpectedCost l = ComputeExpectedCost(lenet, widths);
    l.weight_bytes.backward();
    EXPECT_GT(widths[2].grad().item<double>(), 0);
    EXPECT_DOUBLE_EQ(l.weight_bytes.item<double>(),
                     static_cast<double>(arch::ComputeCost(lenet).weight_bytes));
}

// Issue #11: a candidate the job's limits already admit still shrinks, as far
// as its shrink gene says: every budget sits between its narrowest widths and
// its start, and the model DNAS returns is below the start on each figure.
TEST(Dnas, AShrinkGeneBindsBelowTheCandidatesOwnCost) {
    torch::manual_seed(5);
    const arch::Model candidate = testing::SmallLeNet(16, 32, 64);
    const arch::CostReport start = arch::ComputeCost(arch::Analyze(candidate));
    DnasOptions o;
    o.channel_groups = 4;
    o.max_flash_bytes = start.flash_bytes * 10;  // the job's limits: far above the candidate
    o.shrink = 0.5;
    EXPECT_TRUE(WithinBudget(candidate, o));  // the limits alone would not bind
    DnasResult r = RunDnas(Network(candidate), Small(), OneEpoch(), o, {}, nullptr);
    const arch::CostReport end = arch::ComputeCost(arch::Analyze(r.model));
    EXPECT_LT(r.budgets.max_sram_bytes, start.arena_bytes);
    EXPECT_LT(r.budgets.max_flash_bytes, start.flash_bytes);
    EXPECT_LT(r.budgets.max_macs, start.macs);
    EXPECT_LE(end.arena_bytes, r.budgets.max_sram_bytes);
    EXPECT_LE(end.flash_bytes, r.budgets.max_flash_bytes);
    EXPECT_LE(end.macs, r.budgets.max_macs);
    EXPECT_LT(end.macs, start.macs);
    EXPECT_LT(end.flash_bytes, start.flash_bytes);
}

TEST(Dnas, ShrinkResolvesBetweenTheNarrowestAndTheStartUnderTheLimits) {
    arch::CostReport start, narrowest;
    start.arena_bytes = 1000;
    start.flash_bytes = 50000;
    start.macs = 900000;
    narrowest.arena_bytes = 400;
    narrowest.flash_bytes = 30000;
    narrowest.macs = 100000;
    DnasOptions o;
    o.shrink = 0.25;
    o.max_flash_bytes = 32000;  // a job limit tighter than the relative budget
    const DnasOptions r = ResolveBudgets(o, start, narrowest);
    EXPECT_EQ(r.max_sram_bytes, 550);  // a quarter of the way from 400 to 1000
    EXPECT_EQ(r.max_flash_bytes, 32000);
    EXPECT_EQ(r.max_macs, 300000);
    EXPECT_EQ(r.shrink, 0);
    o.shrink = 0;  // off: the limits alone
    EXPECT_EQ(ResolveBudgets(o, start, narrowest).max_macs, 0);
    EXPECT_EQ(ResolveBudgets(o, start, narrowest).max_flash_bytes, 32000);
}

TEST(Dnas, AnImpossibleBudgetFailsBeforeTraining) {
    DnasOptions o;
    o.max_flash_bytes = 100;
    EXPECT_THROW(RunDnas(Network(testing::SmallLeNet()), Small(), OneEpoch(), o, {}, nullptr),
                 FailedPrecondition);
}

}  // namespace
}  // namespace hilnas::trainer
