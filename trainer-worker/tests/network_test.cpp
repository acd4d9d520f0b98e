// The IR -> LibTorch builder, batch norm folding, shrinking, checkpoints and
// warm starts, and the int8 export against the host runtime.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "export.h"
#include "fit.h"
#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/host_model.h"
#include "network.h"
#include "prune.h"
#include "shrink.h"
#include "test_util.h"
#include "warm_start.h"

namespace hilnas::trainer {
namespace {

// Random images in [0, 255] as a split (labels unused).
Split RandomSplit(int64_t n, const arch::Shape& s) {
    return Split{torch::randint(0, 256, {n, s.c, s.h, s.w}).to(torch::kUInt8),
                 torch::zeros({n}, torch::kLong)};
}

// Gives every batch norm non-trivial statistics.
void RandomizeBatchNorm(NetworkImpl& net) {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < net.num_layers(); ++i) {
        LayerState& s = net.layer(i);
        if (!s.has_bn) continue;
        s.bn_weight.uniform_(0.5, 1.5);
        s.bn_bias.uniform_(-0.2, 0.2);
        s.bn_mean.uniform_(-0.1, 0.1);
        s.bn_var.uniform_(0.5, 2.0);
        s.bias.uniform_(-0.1, 0.1);
    }
}

TEST(Network, EveryOpBuildsWithTheIrShapes) {
    torch::manual_seed(1);
    Network net(testing::EveryOp());
    const torch::Tensor y = net->forward(torch::rand({3, 1, 28, 28}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 10}));
    // Weight layouts follow the IR: depthwise [C*mult, 1, KH, KW], dense [units, in].
    EXPECT_EQ(net->layer(1).weight.sizes(), (std::vector<int64_t>{8, 1, 3, 3}));
    EXPECT_EQ(net->layer(8).weight.sizes(), (std::vector<int64_t>{16, 12}));
    // 28 -> SAME stride 2 -> 14: TensorFlow pads 0 before and 1 after.
    EXPECT_EQ(net->layer(0).pad, (std::array<int64_t, 4>{0, 1, 0, 1}));
    EXPECT_THROW(
        Network(arch::ModelFromJson(
            R"({"input": {"shape": [8, 8, 1]}, "layers": [{"op": "conv2d", "filters": 2, "kernel": [9, 9]}]})")),
        InvalidArgument);
}

TEST(Network, BatchNormFoldsIntoTheWeights) {
    torch::manual_seed(2);
    Network net(testing::EveryOp());
    RandomizeBatchNorm(*net);
    net->eval();
    const torch::Tensor x = torch::rand({4, 1, 28, 28});
    const torch::Tensor before = net->forward(x);
    net->FoldBatchNorm();
    EXPECT_FALSE(net->has_batch_norm());
    EXPECT_TRUE(torch::allclose(net->forward(x), before, 1e-4, 1e-5));
}

TEST(Network, ShrinkSlicesWhatTheRemovedChannelsFed) {
    torch::manual_seed(3);
    Network net(testing::SmallLeNet(8, 16, 32));
    RandomizeBatchNorm(*net);
    net->eval();
    EXPECT_EQ(ShrinkableLayers(net->graph()),
              (std::vector<bool>{true, false, true, false, false, true, false}));
    EXPECT_EQ(
        ShrinkableLayers(arch::Analyze(testing::EveryOp())),
        (std::vector<bool>{false, false, false, false, false, false, true, false, true, false}));
    const std::vector<std::vector<int64_t>> keep{{0, 2, 3, 7}, {}, {1, 4, 5, 9, 15}, {}, {},
                                                 {0, 31},      {}};
    Network small = Shrink(*net, keep);
    EXPECT_EQ(small->model().layers[0].filters, 4);
    EXPECT_EQ(small->model().layers[2].filters, 5);
    EXPECT_EQ(small->model().layers[5].units, 2);
    // The original with the removed channels gated to zero computes the same.
    for (int i : {0, 2, 5}) {
        torch::Tensor gate = torch::zeros({net->out_channels(i)});
        for (int64_t c : keep[static_cast<size_t>(i)]) gate[c] = 1;
        net->layer(i).gate = gate;
    }
    small->eval();
    const torch::Tensor x = torch::rand({5, 1, 28, 28});
    EXPECT_TRUE(torch::allclose(small->forward(x), net->forward(x), 1e-4, 1e-5));
    EXPECT_THROW(Shrink(*net, {{}, {}, {}, {}, {}, {}, {0, 1}}), InvalidArgument);
}

TEST(Network, CheckpointsRoundTripAndWarmStartWidensFunctionPreservingly) {
    torch::manual_seed(4);
    Network parent(testing::SmallLeNet(4, 8, 16));
    RandomizeBatchNorm(*parent);
    parent->eval();
    const Checkpoint ck = ReadCheckpoint(WriteCheckpoint(*parent));
    EXPECT_EQ(ck.model, parent->model());
    EXPECT_TRUE(torch::equal(ck.tensors.at("l2_weight"), parent->layer(2).weight));
    EXPECT_THROW(ReadCheckpoint("not a checkpoint"), InvalidArgument);

    // Widen the first conv from 4 to 6 channels (Net2Net): channels 4 and 5
    // copy 1 and 3, and the next conv splits those inputs' weights.
    Network child(testing::SmallLeNet(6, 8, 16));
    std::vector<arch::LayerMapping> map(4);
    map[0] = {0, 0, arch::MorphismKind::kWiden, {0, 1, 2, 3, 1, 3}, {}};
    map[1] = {2, 2, arch::MorphismKind::kCopy, {}, {0, 1, 2, 3, 1, 3}};
    map[2] = {5, 5, arch::MorphismKind::kCopy, {}, {}};
    map[3] = {6, 6, arch::MorphismKind::kCopy, {}, {}};
    WarmStart(*child, ck, map);
    child->eval();
    const torch::Tensor x = torch::rand({3, 1, 28, 28});
    EXPECT_TRUE(torch::allclose(child->forward(x), parent->forward(x), 1e-4, 1e-5));
    map[1].in_channel_map = {0, 1, 2, 3, 1, 9};
    EXPECT_THROW(WarmStart(*child, ck, map), InvalidArgument);
}

// Issue #11: a child maps into its parent's candidate, but the parent's
// checkpoint holds its final model, narrower after channel pruning (or DNAS).
// The maps fold onto the kept channels and the copies split their consumers'
// weights: a child with the candidate's architecture starts computing exactly
// what the pruned parent computes, through its flatten and dense layers too.
TEST(Network, AChildOfAChannelPrunedParentStartsFromTheParentsFinalWeights) {
    torch::manual_seed(6);
    const arch::Model candidate = testing::SmallLeNet(8, 16, 32);
    Network parent(candidate);
    RandomizeBatchNorm(*parent);
    Network pruned = ChannelPrune(*parent, 0.5);
    ASSERT_LT(pruned->model().layers[0].filters, 8);
    ASSERT_LT(pruned->model().layers[2].filters, 16);
    pruned->eval();
    const Checkpoint ck = ReadCheckpoint(WriteCheckpoint(*pruned, &candidate));
    EXPECT_EQ(ck.candidate, candidate);

    std::vector<arch::LayerMapping> map(4);
    map[0] = {0, 0, arch::MorphismKind::kCopy, {}, {}};
    map[1] = {2, 2, arch::MorphismKind::kCopy, {}, {}};
    map[2] = {5, 5, arch::MorphismKind::kCopy, {}, {}};
    map[3] = {6, 6, arch::MorphismKind::kCopy, {}, {}};
    Network child(candidate);
    const torch::Tensor x = torch::rand({4, 1, 28, 28});
    child->eval();
    EXPECT_FALSE(torch::allclose(child->forward(x), pruned->forward(x), 1e-3, 1e-4));
    WarmStart(*child, ck, map);
    child->eval();
    EXPECT_TRUE(torch::allclose(child->forward(x), pruned->forward(x), 1e-4, 1e-5));

    // A checkpoint without its candidate: the maps index the final model, whose
    // four channels the child's eight do not fit.
    EXPECT_THROW(WarmStart(*child, ReadCheckpoint(WriteCheckpoint(*pruned)), map), InvalidArgument);

    // A widened child maps into the candidate's channels too (8 -> 10 here).
    Network wide(testing::SmallLeNet(10, 16, 32));
    map[0] = {0, 0, arch::MorphismKind::kWiden, {0, 1, 2, 3, 4, 5, 6, 7, 6, 7}, {}};
    map[1] = {2, 2, arch::MorphismKind::kCopy, {}, {0, 1, 2, 3, 4, 5, 6, 7, 6, 7}};
    WarmStart(*wide, ck, map);
    wide->eval();
    EXPECT_TRUE(torch::allclose(wide->forward(x), pruned->forward(x), 1e-4, 1e-5));
    // An index beyond the candidate's width is still an error.
    map[1].in_channel_map = {0, 1, 2, 3, 4, 5, 6, 7, 6, 8};
    EXPECT_THROW(WarmStart(*wide, ck, map), InvalidArgument);
}

TEST(Network, IdentityMorphismInsertsAnIdentityLayer) {
    torch::manual_seed(5);
    Network parent(testing::SmallLeNet(4, 8, 16));
    RandomizeBatchNorm(*parent);
    const Checkpoint ck = ReadCheckpoint(WriteCheckpoint(*parent));
    arch::Model deeper = parent->model();
    arch::Layer id;
    id.op = arch::Op::kConv2d;
    id.filters = 4;
    id.kernel = {3, 3};
    id.padding = arch::Padding::kSame;
    id.activation = arch::Activation::kRelu;
    deeper.layers.insert(deeper.layers.begin() + 1, id);
    Network child(deeper);
    std::vector<arch::LayerMapping> map{{0, 0, arch::MorphismKind::kCopy, {}, {}},
                                        {1, -1, arch::MorphismKind::kIdentity, {}, {}},
                                        {3, 2, arch::MorphismKind::kCopy, {}, {}},
                                        {6, 5, arch::MorphismKind::kCopy, {}, {}},
                                        {7, 6, arch::MorphismKind::kCopy, {}, {}}};
    WarmStart(*child, ck, map);
    parent->eval();
    child->eval();
    const torch::Tensor x = torch::rand({3, 1, 28, 28});
    EXPECT_TRUE(torch::allclose(child->forward(x), parent->forward(x), 1e-4, 1e-5));
}

// The fake-quantised module and the host int8 runtime compute the same
// numbers: every op, TensorFlow padding, NHWC flatten order, pools that keep
// their input's quantisation, TFLite's ADD and MEAN.
TEST(Export, HostRuntimeMatchesTheFakeQuantisedModule) {
    for (const arch::Model& model : {testing::EveryOp(), testing::SmallLeNet(6, 10, 24),
                                     testing::FourBit(testing::EveryOp())}) {
        torch::manual_seed(6);
        Network net(model);
        RandomizeBatchNorm(*net);
        net->FoldBatchNorm();
        const Split data = RandomSplit(200, model.input);
        Calibrate(*net, data, torch::kCPU, 1, 200);
        net->set_quant_mode(QuantMode::kFakeQuant);
        net->eval();
        const v1::Int8Model artifact = ExportInt8(*net, "test");
        EXPECT_NO_THROW(artifact::ValidateArtifact(artifact));

        firmware::HostModel host(artifact);
        const QuantParams out_q = net->TensorQuant(net->num_layers());
        const torch::Tensor real = ToReal(data.images);
        torch::Tensor fq;
        {
            torch::NoGradGuard no_grad;
            fq = net->forward(real);
        }
        int64_t close = 0, total = 0;
        for (int64_t i = 0; i < data.size(); ++i) {
            const torch::Tensor nhwc = real[i].permute({1, 2, 0}).contiguous();
            const auto y = host.Run(host.QuantizeInput(
                std::span<const float>(nhwc.data_ptr<float>(), static_cast<size_t>(nhwc.numel()))));
            for (int64_t k = 0; k < 10; ++k) {
                const double expected =
                    std::round(fq[i][k].item<double>() / out_q.scale) + out_q.zero_point;
                close += std::abs(expected - y[static_cast<size_t>(k)]) <= 1 ? 1 : 0;
                ++total;
            }
        }
        EXPECT_GE(static_cast<double>(close) / static_cast<double>(total), 0.97) << model.name;
    }
}

TEST(Export, ArtifactsRoundTripAndCarrySparsityAndFourBitWeights) {
    torch::manual_seed(7);
    arch::Model model = testing::SmallLeNet(6, 10, 24);
    model.layers[2].weight_bits = 4;
    Network net(model);
    net->FoldBatchNorm();
    // Prune half of the second conv.
    net->SetMask(2, (torch::rand_like(net->layer(2).weight) < 0.5).to(torch::kFloat32));
    const Split data = RandomSplit(64, model.input);
    Calibrate(*net, data, torch::kCPU, 1, 64);
    const v1::Int8Model a = ExportInt8(*net, "test");
    const auto dir = testing::TempDir("export");
    artifact::WriteArtifact((dir / "m.hnm").string(), a);
    const v1::Int8Model b = artifact::ReadArtifact((dir / "m.hnm").string());
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
    EXPECT_TRUE(torch::equal(HostPredict(a, data), HostPredict(b, data)));
    const arch::Model ir = arch::ModelFromProto(b.model());
    ASSERT_TRUE(ir.layers[2].sparsity.has_value());
    EXPECT_NEAR(*ir.layers[2].sparsity, 0.5, 0.05);
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(ir));
    EXPECT_LT(cost.nonzero_weight_bytes, cost.weight_bytes);
    // 4-bit rows are packed: half the bytes of the 8-bit layer.
    EXPECT_EQ(b.layers(2).weights().size(), 10u * ((25 * 6 + 1) / 2));
    // A 4-bit depthwise layer is one packed row of its [1, 3, 3, 8] weights.
    torch::manual_seed(8);
    Network four(testing::FourBit(testing::EveryOp()));
    four->FoldBatchNorm();
    Calibrate(*four, RandomSplit(16, four->graph().model.input), torch::kCPU, 1, 16);
    const v1::Int8Model c = ExportInt8(*four, "test");
    const arch::Graph four_graph = arch::Analyze(arch::ModelFromProto(c.model()));
    ASSERT_EQ(four_graph.model.layers[1].op, arch::Op::kDepthwiseConv2d);
    EXPECT_EQ(c.layers(1).weights().size(), (3u * 3 * 8 + 1) / 2);
    EXPECT_EQ(arch::WeightLayoutOf(four_graph, 1).bytes(), (3 * 3 * 8 + 1) / 2);
    // Export needs folded batch norm and observed ranges.
    Network raw(model);
    EXPECT_THROW(ExportInt8(*raw, "test"), FailedPrecondition);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hilnas::trainer
