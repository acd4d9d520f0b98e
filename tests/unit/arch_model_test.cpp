// The IR, its validation, and the cost model against hand-computed figures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/kernels.h"
#include "hilnas/arch/model.h"
#include "hilnas/common/errors.h"
#include "hilnas/v1/model.pb.h"
#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"

namespace hilnas::arch {
namespace {

using ::testing::HasSubstr;

// No kernel scratch, so arena figures below follow from tensor sizes alone.
int64_t NoScratch(const Graph&, int, Kernel) { return 0; }

Graph FromJson(const std::string& json) { return Analyze(ModelFromJson(json)); }

const char* const kTiny = R"({"name": "tiny", "input": {"shape": [28, 28, 1]}, "layers": [
  {"id": "c1", "op": "conv2d", "filters": 8, "kernel": [3, 3], "stride": [1, 1], "padding": "same", "activation": "relu"},
  {"op": "max_pool", "pool": [2, 2], "stride": [2, 2]},
  {"id": "d1", "op": "depthwise_conv2d", "kernel": [3, 3], "stride": [1, 1], "padding": "same", "depth_multiplier": 1, "activation": "relu"},
  {"op": "conv2d", "filters": 8, "kernel": [1, 1], "stride": [1, 1], "padding": "valid"},
  {"op": "add", "inputs": ["d1", "prev"], "activation": "relu"},
  {"op": "global_avg_pool"},
  {"op": "dense", "units": 10}]})";

TEST(ArchCost, TheIssueExampleByHand) {
    const Graph g = FromJson(kTiny);
    // Shapes: 28x28x8, 14x14x8, 14x14x8, 14x14x8, 14x14x8, 1x1x8, 1x1x10.
    EXPECT_EQ(g.output(0), (Shape{28, 28, 8}));
    EXPECT_EQ(g.output(1), (Shape{14, 14, 8}));
    EXPECT_EQ(g.output(5), (Shape{1, 1, 8}));
    EXPECT_EQ(g.output(6), (Shape{1, 1, 10}));
    EXPECT_EQ(g.inputs[4], (std::vector<int>{3, 4}));  // d1's output and the 1x1 conv's

    const CostReport r = ComputeCost(g, PlanStrategy::kBest, NoScratch);
    // params: conv 3*3*1*8+8=80, depthwise 3*3*8+8=80, 1x1 8*8+8=72, dense 8*10+10=90.
    EXPECT_EQ(r.params, 80 + 80 + 72 + 90);
    // macs: 28*28*8*9 + 14*14*8*9 + 14*14*8*8 + 8*10.
    EXPECT_EQ(r.macs, 56448 + 14112 + 12544 + 80);
    // weight bytes: weights + 12 bytes (bias, multiplier, shift) per output channel.
    EXPECT_EQ(r.weight_bytes, (72 + 96) + (72 + 96) + (64 + 96) + (80 + 120));
    // working memory: the max-pool reads 28*28*8 and writes 14*14*8.
    EXPECT_EQ(r.working_memory_bytes, 6272 + 1568);
    // The add's inputs + output: 3 * 1568 = 4704 < 7840, so the pool decides.
    EXPECT_EQ(r.layers[4].working_memory_bytes, 3 * 1568);
    // arena: the conv output and the pool output are live together at step 1.
    EXPECT_EQ(r.arena_bytes, 6272 + 1568);
}

TEST(ArchCost, StridedAndPaddedConvolutionsByHand) {
    const Graph g = FromJson(R"({"input": {"shape": [9, 9, 3]}, "layers": [
      {"op": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": "same"},
      {"op": "conv2d", "filters": 6, "kernel": [3, 3], "stride": [2, 2], "padding": "valid"},
      {"op": "depthwise_conv2d", "kernel": [2, 3], "stride": [1, 2], "padding": "same", "depth_multiplier": 2},
      {"op": "flatten"},
      {"op": "dense", "units": 3}]})");
    EXPECT_EQ(g.output(0), (Shape{5, 5, 4}));   // ceil(9/2)
    EXPECT_EQ(g.output(1), (Shape{2, 2, 6}));   // ceil((5-3+1)/2)
    EXPECT_EQ(g.output(2), (Shape{2, 1, 12}));  // SAME: ceil(2/1) x ceil(2/2), 6*2 channels
    EXPECT_EQ(g.output(3), (Shape{1, 1, 24}));
    const CostReport r = ComputeCost(g, PlanStrategy::kBest, NoScratch);
    EXPECT_EQ(r.layers[0].params, 3 * 3 * 3 * 4 + 4);
    EXPECT_EQ(r.layers[0].macs, 5 * 5 * 4 * 3 * 3 * 3);
    EXPECT_EQ(r.layers[1].params, 3 * 3 * 4 * 6 + 6);
    EXPECT_EQ(r.layers[1].macs, 2 * 2 * 6 * 3 * 3 * 4);
    EXPECT_EQ(r.layers[2].params, 2 * 3 * 6 * 2 + 6 * 2);
    EXPECT_EQ(r.layers[2].macs, 2 * 1 * 12 * 2 * 3);
    EXPECT_EQ(r.layers[3].params, 0);
    EXPECT_EQ(r.layers[4].params, 24 * 3 + 3);
    EXPECT_EQ(r.layers[4].macs, 24 * 3);
    // working memory: layer 0 reads 243 and writes 100.
    EXPECT_EQ(r.working_memory_bytes, 243 + 100);
    // arena: flatten is a view of the depthwise output; sizes round up to 4 bytes:
    // step 0: 244 + 100 = 344 is the peak.
    EXPECT_EQ(r.arena_bytes, 244 + 100);
    // SAME padding puts the extra row/column after, as TensorFlow does.
    EXPECT_EQ(SamePadBefore(9, 3, 2), 1);
    EXPECT_EQ(SamePadBefore(2, 2, 1), 0);
    EXPECT_EQ(SamePadBefore(2, 3, 2), 0);
}

TEST(ArchCost, ResidualAddRunsInPlaceUnderTheBestPlan) {
    // x -> conv a (same shape) -> add(x, a): the add can overwrite a.
    const Graph g = FromJson(R"({"input": {"shape": [8, 8, 4]}, "layers": [
      {"id": "a", "op": "conv2d", "filters": 4, "kernel": 3, "padding": "same"},
      {"op": "add", "inputs": ["input", "a"]},
      {"op": "global_avg_pool"},
      {"op": "dense", "units": 2}]})");
    const int64_t t = 8 * 8 * 4;
    const CostReport greedy = ComputeCost(g, PlanStrategy::kGreedyBySize, NoScratch);
    const CostReport best = ComputeCost(g, PlanStrategy::kBest, NoScratch);
    const CostReport naive = ComputeCost(g, PlanStrategy::kNaive, NoScratch);
    EXPECT_EQ(greedy.working_memory_bytes, 3 * t);
    EXPECT_EQ(greedy.arena_bytes, 3 * t);         // input, a and the sum live at step 1
    EXPECT_EQ(best.arena_bytes, 2 * t);           // the sum overwrites the input (its last reader)
    EXPECT_EQ(naive.arena_bytes, 3 * t + 4 + 4);  // every tensor its own bytes (4 and 2 round to 4)
    EXPECT_EQ(best.layers[1].macs, 0);
}

TEST(ArchCost, FourBitWeightsPackAlongEachOutputRow) {
    const Graph g = FromJson(R"({"input": {"shape": [4, 4, 3]}, "layers": [
      {"op": "conv2d", "filters": 5, "kernel": 3, "padding": "same", "weight_bits": 4},
      {"op": "flatten"},
      {"op": "dense", "units": 7, "weight_bits": 4, "sparsity": 0.5}]})");
    const CostReport r = ComputeCost(g, PlanStrategy::kBest, NoScratch);
    // conv rows are 3*3*3 = 27 weights -> 14 bytes each; + 12 bytes per channel.
    EXPECT_EQ(r.layers[0].weight_bytes, 5 * 14 + 5 * 12);
    // dense rows are 80 weights -> 40 bytes; sparsity does not shrink dense storage.
    EXPECT_EQ(r.layers[2].weight_bytes, 7 * 40 + 7 * 12);
    // SpArSe's model size counts the 280 non-zero of 560 weights: 140 bytes at 4 bits.
    EXPECT_EQ(r.layers[2].nonzero_weight_bytes, 140 + 7 * 12);
}

// A 4-bit depthwise filter is one packed row of KH*KW*C values
// (nn_depthwise_conv_s4): no padding nibble per channel.
TEST(ArchCost, FourBitDepthwiseWeightsPackAsOneRow) {
    const Graph g = FromJson(R"({"input": {"shape": [6, 6, 3]}, "layers": [
      {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "weight_bits": 4},
      {"op": "depthwise_conv2d", "kernel": [5, 3], "depth_multiplier": 2, "weight_bits": 4},
      {"op": "global_avg_pool"}]})");
    const CostReport r = ComputeCost(g);
    // 3*3*3 = 27 weights -> 14 bytes; + 12 bytes per channel.
    EXPECT_EQ(r.layers[0].weight_bytes, 14 + 3 * 12);
    EXPECT_EQ(r.layers[0].weight_array_bytes, 16 + 3 * 12);
    EXPECT_EQ(r.layers[0].macs, 6 * 6 * 3 * 9);
    // 5*3*6 = 90 weights -> 45 bytes.
    EXPECT_EQ(r.layers[1].weight_bytes, 45 + 6 * 12);
    EXPECT_EQ(KernelOf(g, 0), Kernel::kDepthwiseS4);
    EXPECT_STREQ(KernelFunction(Kernel::kDepthwiseS4), "nn_depthwise_conv_s4");
    // Its scratch: the taps of four channels widened to int16.
    EXPECT_EQ(r.layers[0].scratch_bytes, 8 * 9);
    EXPECT_EQ(r.layers[1].scratch_bytes, 8 * 15);
}

// Sparse storage (issue #11): an 8-bit conv or dense layer whose exact
// nonzero_weights make the runtime's sparse layout smaller than dense runs the
// sparse kernel, and the cost model counts that layout's bytes and scratch.
TEST(ArchCost, SparseWeightsAreStoredSparseWhenThatIsSmaller) {
    // conv: 4 rows of 3*3*3 = 27 weights (a 4-byte bitmap each), 108 weights.
    // dense: 5 rows of 4*4*4 = 64 weights (8 bytes of bitmap each), 320 weights.
    const Graph g = FromJson(R"({"input": {"shape": [4, 4, 3]}, "layers": [
      {"op": "conv2d", "filters": 4, "kernel": 3, "padding": "same", "nonzero_weights": 20},
      {"op": "flatten"},
      {"op": "dense", "units": 5, "nonzero_weights": 64},
      {"op": "dense", "units": 6, "nonzero_weights": 28},
      {"op": "dense", "units": 3, "sparsity": 0.9},
      {"op": "dense", "units": 2, "weight_bits": 4, "nonzero_weights": 1}]})");
    const CostReport r = ComputeCost(g);
    EXPECT_EQ(KernelOf(g, 0), Kernel::kConvSparse);
    EXPECT_EQ(r.layers[0].weight_bytes, 4 * 4 + 20 + 4 * 12);
    EXPECT_EQ(r.layers[0].weight_array_bytes, 36 + 4 * 12);
    EXPECT_EQ(KernelOf(g, 2), Kernel::kFullyConnectedSparse);
    EXPECT_EQ(r.layers[2].weight_bytes, 5 * 8 + 64 + 5 * 12);
    // 28 of 5*6 = 30 non-zero: a byte of bitmap per row + 28 = 34 > 30 dense bytes.
    EXPECT_EQ(KernelOf(g, 3), Kernel::kFullyConnected);
    EXPECT_EQ(r.layers[3].weight_bytes, 30 + 6 * 12);
    // A sparsity target is not a count: the layer stays dense.
    EXPECT_EQ(KernelOf(g, 4), Kernel::kFullyConnected);
    EXPECT_EQ(r.layers[4].weight_bytes, 6 * 3 + 3 * 12);
    // 4-bit weights have no sparse kernel.
    EXPECT_EQ(KernelOf(g, 5), Kernel::kFullyConnectedS4);
    // Each sparse kernel's scratch is the runtime's own figure, in the plan.
    const nn_dims input{1, 4, 4, 3}, filter{4, 3, 3, 3};
    EXPECT_EQ(r.layers[0].scratch_bytes, nn_convolve_sparse_s8_get_buffer_size(&input, &filter));
    const nn_dims flat{1, 1, 1, 64}, fc{5, 1, 1, 64};
    EXPECT_EQ(r.layers[2].scratch_bytes, nn_fully_connected_sparse_s8_get_buffer_size(&flat, &fc));
    EXPECT_STREQ(KernelFunction(Kernel::kConvSparse), "nn_convolve_sparse_s8");
    EXPECT_STREQ(KernelFunction(Kernel::kFullyConnectedSparse), "nn_fully_connected_sparse_s8");
    // The stored bytes are the runtime's nn_sparse_s8_bytes.
    EXPECT_EQ(StoredWeightBytes(g, 2), nn_sparse_s8_bytes(5, 64, 64));
    EXPECT_EQ(StoredWeightBytes(g, 3), 30);
}

TEST(ArchCost, ScratchIsPlannedWithItsLayer) {
    const Graph g = FromJson(R"({"input": {"shape": [6, 6, 2]}, "layers": [
      {"op": "conv2d", "filters": 2, "kernel": 3, "padding": "same"},
      {"op": "global_avg_pool"},
      {"op": "dense", "units": 2}]})");
    auto scratch = [](const Graph&, int layer, Kernel) -> int64_t { return layer == 0 ? 100 : 0; };
    const CostReport r = ComputeCost(g, PlanStrategy::kBest, scratch);
    EXPECT_EQ(r.layers[0].scratch_bytes, 100);
    EXPECT_EQ(r.arena_bytes, 72 + 72 + 100);     // input, output and scratch at step 0
    EXPECT_EQ(r.working_memory_bytes, 72 + 72);  // SpArSe's definition has no scratch
}

TEST(ArchModel, JsonAndProtoRoundTrip) {
    const Model m = ModelFromJson(kTiny);
    EXPECT_EQ(ModelFromJson(ModelToJson(m)), m);
    EXPECT_EQ(ModelFromJson(ModelToJson(m, true)), m);
    v1::Model proto;
    ModelToProto(m, &proto);
    EXPECT_EQ(ModelFromProto(proto), m);
    v1::Model reparsed;
    ASSERT_TRUE(reparsed.ParseFromString(proto.SerializeAsString()));
    EXPECT_EQ(ModelFromProto(reparsed), m);
}

// The exact count of non-zero weights travels through JSON and protobuf and is
// bounded by the layer's weights.
TEST(ArchModel, NonzeroWeightsRoundTripAndAreBounded) {
    const Model m = ModelFromJson(R"({"input": {"shape": [5, 5, 3]}, "layers": [
      {"op": "conv2d", "filters": 4, "kernel": 3, "nonzero_weights": 108},
      {"op": "depthwise_conv2d", "kernel": 3, "nonzero_weights": 0},
      {"op": "flatten"}, {"op": "dense", "units": 2, "nonzero_weights": 7}]})");
    EXPECT_EQ(m.layers[0].nonzero_weights, 108);  // all of 3*3*3*4
    EXPECT_EQ(ModelFromJson(ModelToJson(m)), m);
    v1::Model proto;
    ModelToProto(m, &proto);
    EXPECT_EQ(ModelFromProto(proto), m);
    EXPECT_NO_THROW(Analyze(m));
    Model over = m;
    over.layers[0].nonzero_weights = 109;
    EXPECT_THROW(Analyze(over), InvalidArgument);
    over.layers[0].nonzero_weights = -1;
    EXPECT_THROW(Analyze(over), InvalidArgument);
    over = m;
    over.layers[3].nonzero_weights = 4 * 2 + 1;  // dense: 1x1x4 flattened, 2 units
    EXPECT_THROW(Analyze(over), InvalidArgument);
    over.layers[3].nonzero_weights = 4 * 2;
    EXPECT_NO_THROW(Analyze(over));
    over.layers[2].nonzero_weights = 0;  // flatten has no weights
    EXPECT_THROW(Analyze(over), InvalidArgument);
}

TEST(ArchModel, PoolsStrideByTheirSizeByDefault) {
    const Model m = ModelFromJson(R"({"input": {"shape": [8, 8, 1]}, "layers": [
      {"op": "avg_pool", "pool": 2}, {"op": "flatten"}, {"op": "dense", "units": 2}]})");
    EXPECT_EQ(m.layers[0].stride, (std::array<int, 2>{2, 2}));
    EXPECT_EQ(Analyze(m).output(0), (Shape{4, 4, 1}));
}

// The message of the InvalidArgument that analysing `json` throws.
std::string ErrorOf(const std::string& json) {
    try {
        FromJson(json);
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

std::string Model1(const std::string& layers, const std::string& shape = "[7, 7, 4]") {
    return R"({"input": {"shape": )" + shape + R"(}, "layers": [)" + layers + "]}";
}

TEST(ArchModel, BadModelsGiveClearErrors) {
    const std::string head = R"(, {"op": "global_avg_pool"}, {"op": "dense", "units": 2})";
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv3d", "filters": 2})" + head)),
                HasSubstr("layers[0].op: unknown op 'conv3d'"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"id": "d1", "op": "conv2d", "filters": 4, "kernel": 9})" + head)),
        HasSubstr("layers[0].kernel: layer 0 (d1): kernel 9x9 larger than its 7x7 input"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"op": "conv2d", "filters": 0, "kernel": 3})" + head)),
        HasSubstr("layers[0].filters: layer 0: filters must be between 1 and 65535, got 0"));
    EXPECT_THAT(ErrorOf(Model1(
                    R"({"op": "conv2d", "filters": 2, "kernel": 1, "inputs": ["nope"]})" + head)),
                HasSubstr("input 'nope' names no layer (dangling input id)"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"id": "a", "op": "conv2d", "filters": 4, "kernel": 1, "inputs": ["b"]},
                                 {"id": "b", "op": "conv2d", "filters": 4, "kernel": 1, "inputs": ["a"]})" +
                       head)),
        HasSubstr("layer 0 (a): input 'b' is a later layer"));
    EXPECT_THAT(ErrorOf(Model1(R"({"id": "a", "op": "add", "inputs": ["input", "a"]})" + head)),
                HasSubstr("input 'a' is the layer itself (a cycle)"));
    // Shapes that collapse to zero: three valid 3x3 convolutions on 7x7.
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 3},
                                 {"op": "conv2d", "filters": 4, "kernel": 3},
                                 {"op": "conv2d", "filters": 4, "kernel": 3},
                                 {"op": "conv2d", "filters": 4, "kernel": 3})" +
                               head)),
                HasSubstr("layer 3: kernel 3x3 larger than its 1x1 input"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "max_pool", "pool": 2}, {"op": "max_pool", "pool": 2},
                                 {"op": "max_pool", "pool": 2})" +
                               head)),
                HasSubstr("layer 2: pool 2x2 larger than its 1x1 input"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1, "filter": 3})" + head)),
        HasSubstr("layers[0]: unknown key 'filter' for conv2d"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "dense", "units": 2})")),
                HasSubstr("dense needs a flat 1x1xN input, got 7x7x4"));
    EXPECT_THAT(ErrorOf(Model1(R"({"id": "x", "op": "conv2d", "filters": 8, "kernel": 1},
                                 {"op": "add", "inputs": ["input", "x"]})" +
                               head)),
                HasSubstr("inputs have different shapes 7x7x4 and 7x7x8"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1, "weight_bits": 3})" + head)),
        HasSubstr("weight_bits must be 8 or 4, not 3"));
    EXPECT_THAT(ErrorOf(Model1(R"({"id": "a", "op": "conv2d", "filters": 4, "kernel": 1},
                                 {"id": "a", "op": "conv2d", "filters": 4, "kernel": 1})" +
                               head)),
                HasSubstr("duplicate id 'a'"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1},
                                 {"op": "conv2d", "filters": 4, "kernel": 1, "inputs": ["input"]})" +
                               head)),
                HasSubstr("layer 0: its output is never used"));
    EXPECT_THAT(
        ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1, "sparsity": 1.0})" + head)),
        HasSubstr("sparsity must be in [0, 1)"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1,
                                   "nonzero_weights": 17})" +
                               head)),
                HasSubstr("nonzero_weights must be between 0 and the layer's 16 weights, got 17"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv2d", "filters": 4, "kernel": 1,
                                   "nonzero_weights": 1.5})" +
                               head)),
                HasSubstr("nonzero_weights: must be an integer"));
    EXPECT_THAT(ErrorOf(Model1(head.substr(2), "[0, 7, 1]")), HasSubstr("input.shape"));
    EXPECT_THAT(ErrorOf(R"({"input": {"shape": [4, 4, 1]}, "layers": []})"),
                HasSubstr("at least one layer"));
    EXPECT_THAT(ErrorOf("{\"input\": "), HasSubstr("not valid JSON"));
    // Found by tests/fuzz/fuzz_ir_json: a number beyond a double escaped as
    // nlohmann's out_of_range instead of an InvalidArgument.
    EXPECT_THAT(ErrorOf(R"({"input": {"shape": [28, 28, 11e308]}, "layers": []})"),
                HasSubstr("not valid JSON"));
    EXPECT_THAT(ErrorOf(R"({"input": {"shape": [4, 4, 1]}, "layers": [], "extra": 1})"),
                HasSubstr("unknown key 'extra'"));
    EXPECT_THAT(ErrorOf(Model1(R"({"op": "conv2d", "filters": "8", "kernel": 1})" + head)),
                HasSubstr("layers[0].filters: must be an integer"));
}

TEST(ArchModel, UnspecifiedProtoOpIsAnError) {
    v1::Model proto;
    proto.mutable_input()->add_shape(4);
    proto.mutable_input()->add_shape(4);
    proto.mutable_input()->add_shape(1);
    proto.add_layers();
    EXPECT_THROW(ModelFromProto(proto), InvalidArgument);
}

}  // namespace
}  // namespace hilnas::arch
