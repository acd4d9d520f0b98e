// Properties over thousands of sampled models: each validates, round-trips
// through JSON and protobuf, encodes and decodes to itself; every memory plan
// passes an independent checker; mutations and morphisms stay in the space
// and their weight mappings are consistent.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/kernels.h"
#include "hilnas/arch/space.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/errors.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/model.pb.h"

namespace hilnas::arch {
namespace {

SearchSpace WideSpace() {
    SearchSpace s;
    s.input = {32, 32, 3};
    s.classes = 10;
    s.blocks = {0, 6};
    s.block_kinds = {BlockKind::kConv, BlockKind::kDepthwiseSeparable,
                     BlockKind::kInvertedBottleneck};
    s.channels = {2, 96};
    s.kernel_sizes = {1, 3, 5, 7};
    s.downsampling = {Downsample::kNone, Downsample::kStride, Downsample::kMaxPool,
                      Downsample::kAvgPool};
    s.heads = {HeadKind::kGlobalAvgPool, HeadKind::kFlatten};
    s.dense_layers = {0, 2};
    s.dense_units = {8, 256};
    s.weight_bits = {8, 4};
    s.pruning_methods = {PruningMethod::kNone, PruningMethod::kSparseVd, PruningMethod::kChannel,
                         PruningMethod::kBayesian};
    s.optimizers = {TrainOptimizer::kSgd, TrainOptimizer::kAdamW};
    s.learning_rate = {1e-4, 0.3, true};
    s.weight_decay = {0.0, 1e-2, false};
    s.epochs = {1, 30};
    s.batch_sizes = {32, 64, 128, 256};
    s.dnas = true;
    return s;
}

std::vector<SearchSpace> Spaces() {
    SearchSpace mnist;  // the defaults: Fashion-MNIST sized
    SearchSpace tiny;
    tiny.input = {5, 5, 1};
    tiny.blocks = {1, 4};
    tiny.channels = {1, 3};
    tiny.allow_residual = true;
    return {mnist, WideSpace(), tiny};
}

// An independent check of a plan: recomputes every lifetime from the graph
// and proves that no two buffers live at the same step share a byte, unless
// the runtime's documented aliasing allows it (a flatten is a view of its
// input; an add, or a depthwise layer through the in-place kernel, may
// overwrite an input it is the last reader of).
void CheckPlan(const Graph& g, const MemoryPlan& plan, const ScratchFn& scratch) {
    const int n = g.num_layers();
    struct Buf {
        int64_t offset, size;
        int first, last;
        std::string what;
    };
    std::vector<Buf> bufs;
    std::vector<int> tensor_set(static_cast<size_t>(n) + 1);
    std::iota(tensor_set.begin(), tensor_set.end(), 0);
    auto find = [&](int t) {
        while (tensor_set[static_cast<size_t>(t)] != t) t = tensor_set[static_cast<size_t>(t)];
        return t;
    };
    auto last_reader = [&](int t) {
        const auto& r = g.consumers[static_cast<size_t>(t)];
        return r.empty() ? n - 1 : *std::max_element(r.begin(), r.end());
    };
    for (int t = 0; t <= n; ++t) {
        const int64_t off = plan.tensor_offset(t);
        bufs.push_back({off, g.tensors[static_cast<size_t>(t)].elements(), t == 0 ? 0 : t - 1,
                        last_reader(t), "tensor " + std::to_string(t)});
    }
    for (int i = 0; i < n; ++i) {
        const Layer& l = g.model.layers[static_cast<size_t>(i)];
        const int out = i + 1;
        const int in0 = g.inputs[static_cast<size_t>(i)][0];
        if (l.op == Op::kFlatten) {
            ASSERT_EQ(plan.tensor_offset(out), plan.tensor_offset(in0)) << "flatten is a view";
            tensor_set[static_cast<size_t>(find(out))] = find(in0);
        }
        if (l.op == Op::kAdd) {
            for (int in : g.inputs[static_cast<size_t>(i)]) {
                if (plan.tensor_offset(in) != plan.tensor_offset(out)) continue;
                // In place: nothing sharing the input's bytes may be read after the add.
                for (int t = 0; t <= n; ++t) {
                    if (find(t) == find(in)) {
                        ASSERT_LE(last_reader(t), i) << "add " << i << " overwrites tensor " << t;
                    }
                }
                tensor_set[static_cast<size_t>(find(out))] = find(in);
                break;
            }
        }
        const Kernel kernel = plan.kernels[static_cast<size_t>(i)];
        if (kernel != KernelOf(g, i)) {
            // The only other choice: an in-place kernel, for a layer it can
            // run, over an input nothing reads after it.
            ASSERT_EQ(plan.strategy, PlanStrategy::kBest);
            if (l.op == Op::kDepthwiseConv2d) {
                ASSERT_EQ(kernel, Kernel::kDepthwiseInPlace);
                ASSERT_EQ(l.depth_multiplier, 1);
            } else {
                ASSERT_EQ(kernel, Kernel::kConv1x1InPlace);
                ASSERT_EQ(l.op, Op::kConv2d);
                ASSERT_EQ(l.kernel, (std::array<int, 2>{1, 1}));
                ASSERT_EQ(l.stride, (std::array<int, 2>{1, 1}));
            }
            ASSERT_EQ(InPlaceKernel(g, i), kernel);
            ASSERT_EQ(plan.tensor_offset(out), plan.tensor_offset(in0)) << "in place";
            for (int t = 0; t <= n; ++t) {
                if (find(t) == find(in0)) {
                    ASSERT_LE(last_reader(t), i) << "layer " << i << " overwrites tensor " << t;
                }
            }
            tensor_set[static_cast<size_t>(find(out))] = find(in0);
        }
        const int64_t bytes = scratch(g, i, kernel);
        const int b = plan.scratch_buffer[static_cast<size_t>(i)];
        if (bytes == 0) {
            ASSERT_EQ(b, -1);
            continue;
        }
        ASSERT_GE(b, 0);
        bufs.push_back({plan.buffers[static_cast<size_t>(b)].offset, bytes, i, i,
                        "scratch " + std::to_string(i)});
    }
    for (size_t a = 0; a < bufs.size(); ++a) {
        ASSERT_GE(bufs[a].offset, 0);
        ASSERT_EQ(bufs[a].offset % 4, 0) << bufs[a].what;
        ASSERT_LE(bufs[a].offset + bufs[a].size, plan.arena_bytes) << bufs[a].what;
        for (size_t b = a + 1; b < bufs.size(); ++b) {
            const bool same_time = bufs[a].first <= bufs[b].last && bufs[b].first <= bufs[a].last;
            const bool same_bytes = bufs[a].offset < bufs[b].offset + bufs[b].size &&
                                    bufs[b].offset < bufs[a].offset + bufs[a].size;
            if (!same_time || !same_bytes) continue;
            const bool tensors = a <= static_cast<size_t>(n) && b <= static_cast<size_t>(n);
            const bool aliased = tensors &&
                                 find(static_cast<int>(a)) == find(static_cast<int>(b)) &&
                                 bufs[a].offset == bufs[b].offset;
            ASSERT_TRUE(aliased) << bufs[a].what << " and " << bufs[b].what << " overlap";
        }
    }
}

TEST(ArchProperties, SampledModelsValidateRoundTripAndPlanSafely) {
    int models = 0;
    for (const SearchSpace& space : Spaces()) {
        std::mt19937_64 rng(42);
        for (int k = 0; k < 2000; ++k, ++models) {
            const Point p = Sample(space, rng);
            SCOPED_TRACE(PointToJson(p));
            ASSERT_EQ(Normalize(space, p), p) << "samples are canonical";
            const std::vector<double> u = Encode(space, p);
            ASSERT_EQ(static_cast<int>(u.size()), EncodingSize(space));
            for (double x : u) ASSERT_TRUE(x >= 0.0 && x <= 1.0);
            ASSERT_EQ(Decode(space, u), p) << "decode(encode(p)) == p";

            const Model m = BuildModel(space, p, "m" + std::to_string(k));
            Graph g;
            ASSERT_NO_THROW(g = Analyze(m));
            ASSERT_EQ(ModelFromJson(ModelToJson(m)), m);
            v1::Model proto;
            ModelToProto(m, &proto);
            v1::Model wire;
            ASSERT_TRUE(wire.ParseFromString(proto.SerializeAsString()));
            ASSERT_EQ(ModelFromProto(wire), m);
            ASSERT_EQ(g.output(g.num_layers() - 1), (Shape{1, 1, space.classes}));

            int64_t previous = -1;
            for (auto strategy :
                 {PlanStrategy::kNaive, PlanStrategy::kGreedyBySize, PlanStrategy::kBest}) {
                const MemoryPlan plan = PlanMemory(g, strategy);
                CheckPlan(g, plan, RuntimeScratchBytes);
                if (HasFatalFailure()) return;
                ASSERT_GE(plan.arena_bytes, LiveBytesLowerBound(plan));
                if (previous >= 0) {
                    ASSERT_LE(plan.arena_bytes, previous) << StrategyName(strategy);
                }
                previous = plan.arena_bytes;
            }
        }
    }
    EXPECT_EQ(models, 6000);
}

TEST(ArchProperties, AnyVectorDecodesToACanonicalPoint) {
    const SearchSpace space = WideSpace();
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> wild(-0.5, 1.5);
    for (int k = 0; k < 500; ++k) {
        std::vector<double> u(static_cast<size_t>(EncodingSize(space)));
        for (double& x : u) x = wild(rng);
        const Point p = Decode(space, u);
        ASSERT_EQ(Normalize(space, p), p);
        ASSERT_EQ(Decode(space, Encode(space, p)), p);
        ASSERT_NO_THROW(Analyze(BuildModel(space, p)));
    }
}

TEST(ArchProperties, MutationsStayInTheSpaceAndChangeSomething) {
    for (const SearchSpace& space : Spaces()) {
        std::mt19937_64 rng(3);
        for (int k = 0; k < 300; ++k) {
            const Point p = Sample(space, rng);
            const Point c = Mutate(space, p, rng);
            ASSERT_NE(c, p);
            ASSERT_EQ(Normalize(space, c), c);
            ASSERT_NO_THROW(Analyze(BuildModel(space, c)));
        }
    }
}

// The weight tensors of a layer: (out channels, in channels per output, kh, kw).
struct WeightShape {
    int out = 0, in = 0, kh = 0, kw = 0;
};
WeightShape WeightsOf(const Graph& g, int i) {
    const Layer& l = g.model.layers[static_cast<size_t>(i)];
    const Shape& x = g.input_of(i);
    switch (l.op) {
        case Op::kConv2d:
            return {l.filters, x.c, l.kernel[0], l.kernel[1]};
        case Op::kDepthwiseConv2d:
            return {x.c * l.depth_multiplier, 1, l.kernel[0], l.kernel[1]};
        case Op::kDense:
            return {l.units, static_cast<int>(x.elements()), 1, 1};
        default:
            return {};
    }
}

TEST(ArchProperties, MorphismsMapEveryChildLayerConsistently) {
    std::map<std::string, int> seen;
    for (const SearchSpace& space : Spaces()) {
        std::mt19937_64 rng(11);
        for (int k = 0; k < 400; ++k) {
            const Point parent = Sample(space, rng);
            const auto morphed = Morph(space, parent, rng);
            if (!morphed) continue;
            SCOPED_TRACE(morphed->operation + " of " + PointToJson(parent));
            seen[morphed->operation.substr(0, morphed->operation.find(' '))]++;
            ASSERT_EQ(Normalize(space, morphed->child), morphed->child);
            const Graph pg = Analyze(BuildModel(space, parent));
            const Graph cg = Analyze(BuildModel(space, morphed->child));
            ASSERT_EQ(static_cast<int>(morphed->layers.size()), cg.num_layers());
            int mapped = 0;
            for (int i = 0; i < cg.num_layers(); ++i) {
                const LayerMapping& m = morphed->layers[static_cast<size_t>(i)];
                ASSERT_EQ(m.child_layer, i);
                const Layer& cl = cg.model.layers[static_cast<size_t>(i)];
                if (m.parent_layer < 0) {
                    ASSERT_EQ(m.kind, MorphismKind::kIdentity);
                    continue;
                }
                ++mapped;
                ASSERT_LT(m.parent_layer, pg.num_layers());
                const Layer& pl = pg.model.layers[static_cast<size_t>(m.parent_layer)];
                ASSERT_EQ(cl.op, pl.op);
                if (!cl.has_weights()) continue;
                const WeightShape cw = WeightsOf(cg, i);
                const WeightShape pw = WeightsOf(pg, m.parent_layer);
                if (m.kind == MorphismKind::kCopy) {
                    ASSERT_EQ(std::tie(cw.out, cw.in, cw.kh, cw.kw),
                              std::tie(pw.out, pw.in, pw.kh, pw.kw));
                }
                if (m.kind == MorphismKind::kGrowKernel) {
                    ASSERT_GT(cw.kh, pw.kh);
                    ASSERT_EQ(cw.out, pw.out);
                }
                // Channel maps cover the child's channels and point into the parent's.
                const int out_expected = m.out_channel_map.empty() ? pw.out : cw.out;
                ASSERT_EQ(cw.out, out_expected);
                for (int c : m.out_channel_map) ASSERT_TRUE(c >= 0 && c < pw.out);
                const int in_child = cl.op == Op::kDepthwiseConv2d ? cw.out : cw.in;
                const int in_parent = cl.op == Op::kDepthwiseConv2d ? pw.out : pw.in;
                if (m.in_channel_map.empty()) {
                    ASSERT_EQ(in_child, in_parent);
                } else {
                    ASSERT_EQ(static_cast<int>(m.in_channel_map.size()), in_child);
                    for (int c : m.in_channel_map) ASSERT_TRUE(c >= 0 && c < in_parent);
                }
            }
            ASSERT_EQ(mapped, pg.num_layers()) << "every parent layer lives on in the child";
        }
    }
    EXPECT_GT(seen["widen"], 0);
    EXPECT_GT(seen["grow-kernel"], 0);
    EXPECT_GT(seen["deepen"], 0);
}

TEST(ArchSpace, YamlAndProtoRoundTrip) {
    // A job spec, as `hilnas submit` and `hilnas arch sample` read it; its
    // dataset (CIFAR-10) gives the input [32, 32, 3] and 10 classes.
    const SearchSpace s = cli::SearchSpaceFromYaml(R"(
dataset: {name: cifar10}
search_space:
  blocks: {min: 2, max: 5}
  block_kinds: [BLOCK_CONV, BLOCK_INVERTED_BOTTLENECK]
  channels: {min: 8, max: 48}
  kernel_sizes: [3, 5]
  downsampling: [DOWNSAMPLE_NONE, DOWNSAMPLE_MAX_POOL]
  allow_residual: false
  expansions: [3]
  heads: [HEAD_FLATTEN]
  dense_layers: {min: 1, max: 2}
  dense_units: {min: 32, max: 64}
  weight_bits: [4, 8]
  pruning: {methods: [PRUNING_NONE, PRUNING_SPARSE_VD, PRUNING_BAYESIAN], target_sparsity: {min: 0.4, max: 0.8}}
  training: {optimizers: [TRAIN_OPTIMIZER_SGD], learning_rate: {min: 0.01, max: 0.1, log_scale: true}, epochs: {min: 2, max: 4}, batch_sizes: [64]}
  dnas: true
)",
                                                   "job.yaml");
    EXPECT_EQ(s.blocks, (IntRange{2, 5}));
    EXPECT_EQ(s.block_kinds,
              (std::vector<BlockKind>{BlockKind::kConv, BlockKind::kInvertedBottleneck}));
    EXPECT_FALSE(s.allow_residual);
    EXPECT_EQ(s.learning_rate, (RealRange{0.01, 0.1, true}));
    EXPECT_EQ(s.pruning_methods,
              (std::vector<PruningMethod>{PruningMethod::kNone, PruningMethod::kSparseVd,
                                          PruningMethod::kBayesian}));
    v1::SearchSpace proto;
    SpaceToProto(s, &proto);
    v1::SearchSpace wire;
    ASSERT_TRUE(wire.ParseFromString(proto.SerializeAsString()));
    EXPECT_EQ(SpaceFromProto(wire, s.input, s.classes), s);
    EXPECT_EQ(wire.pruning().methods(2), v1::PRUNING_BAYESIAN);
    // An empty proto means the defaults.
    EXPECT_EQ(SpaceFromProto(v1::SearchSpace(), {28, 28, 1}, 10), SearchSpace{});
}

// Every pruning method has its own name in a point's JSON and survives the
// space's proto both ways.
TEST(ArchSpace, EveryPruningMethodHasANameAndAProtoValue) {
    std::set<std::string> names;
    for (PruningMethod m : {PruningMethod::kNone, PruningMethod::kSparseVd, PruningMethod::kChannel,
                            PruningMethod::kBayesian}) {
        Point p;
        p.pruning = m;
        const std::string json = PointToJson(p), key = "\"pruning\":\"";
        const size_t at = json.find(key);
        ASSERT_NE(at, std::string::npos) << json;
        const size_t from = at + key.size();
        names.insert(json.substr(from, json.find('"', from) - from));
        SearchSpace s;
        s.pruning_methods = {m};
        v1::SearchSpace proto;
        SpaceToProto(s, &proto);
        EXPECT_EQ(SpaceFromProto(proto, s.input, s.classes).pruning_methods, s.pruning_methods);
    }
    EXPECT_EQ(names, (std::set<std::string>{"none", "sparse_vd", "channel", "bayesian"}));
}

// A block's weight_bits reach every weighted layer it builds, depthwise
// included, so a 4-bit space has 4-bit depthwise layers on
// nn_depthwise_conv_s4, with packed weights and their scratch in the plan.
TEST(ArchSpace, WeightBitsReachTheDepthwiseLayers) {
    SearchSpace s = WideSpace();
    s.block_kinds = {BlockKind::kDepthwiseSeparable, BlockKind::kInvertedBottleneck};
    s.weight_bits = {4};
    std::mt19937_64 rng(14);
    int depthwise = 0;
    for (int k = 0; k < 200; ++k) {
        const Model m = BuildModel(s, Sample(s, rng), "m" + std::to_string(k));
        Graph g;
        ASSERT_NO_THROW(g = Analyze(m)) << ModelToJson(m);
        const CostReport cost = ComputeCost(g);
        for (int i = 0; i < g.num_layers(); ++i) {
            const Layer& l = g.model.layers[static_cast<size_t>(i)];
            if (!l.has_weights()) continue;
            ASSERT_EQ(l.bits(), 4) << g.LayerName(i);
            if (l.op != Op::kDepthwiseConv2d) continue;
            ++depthwise;
            ASSERT_EQ(KernelOf(g, i), Kernel::kDepthwiseS4);
            const int64_t values = int64_t{l.kernel[0]} * l.kernel[1] * g.output(i).c;
            ASSERT_EQ(cost.layers[static_cast<size_t>(i)].weight_bytes,
                      (values + 1) / 2 + 12 * g.output(i).c);
            ASSERT_EQ(cost.layers[static_cast<size_t>(i)].scratch_bytes,
                      8 * l.kernel[0] * l.kernel[1]);
        }
    }
    EXPECT_GT(depthwise, 200);
    // The same point with 8-bit blocks keeps 8-bit depthwise layers: the
    // encoding is unchanged, only the layers' bits follow the block's.
    SearchSpace both = s;
    both.weight_bits = {8, 4};
    Point p = Sample(both, rng);
    for (Block& b : p.blocks) b.bits = 8;
    const Graph eight = Analyze(BuildModel(both, p, "eight"));
    for (int i = 0; i < eight.num_layers(); ++i) {
        if (eight.model.layers[static_cast<size_t>(i)].op == Op::kDepthwiseConv2d) {
            EXPECT_EQ(KernelOf(eight, i), Kernel::kDepthwise);
        }
    }
}

std::string SpaceError(const std::string& yaml) {
    try {
        cli::SearchSpaceFromYaml(yaml, "space.yaml");
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

// What the default space on a dataset of this shape and classes is refused for.
std::string ShapeError(const Shape& input, int classes) {
    try {
        SpaceFromProto(v1::SearchSpace(), input, classes, "");
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

// A space file is a job spec's search_space section (or a whole job spec):
// the errors name the field as the file spells it.
TEST(ArchSpace, BadSpacesNameTheField) {
    EXPECT_EQ(SpaceError("blocks: {min: 3, max: 1}"), "space.yaml: blocks.max: must be >= min (3)");
    EXPECT_EQ(SpaceError("search_space: {blocks: {min: 3, max: 1}}"),
              "space.yaml: search_space.blocks.max: must be >= min (3)");
    EXPECT_EQ(SpaceError("block_kinds: [BLOCK_CONV, resnet]"),
              "space.yaml: not a hilnas.v1.SearchSpace: (block_kinds[1]): invalid value \"resnet\" "
              "for type type.googleapis.com/hilnas.v1.BlockKind");
    EXPECT_EQ(SpaceError("chanels: {min: 1, max: 2}"),
              "space.yaml: not a hilnas.v1.SearchSpace: chanels: Cannot find field.");
    EXPECT_EQ(SpaceError("weight_bits: [8, 2]"), "space.yaml: weight_bits: must be 8 or 4");
    // An empty list in the file keeps the default (as in a job spec); an
    // empty list in the space itself is refused.
    EXPECT_EQ(SpaceError("kernel_sizes: []"), "(no error)");
    SearchSpace no_kernels;
    no_kernels.kernel_sizes.clear();
    try {
        ValidateSpace(no_kernels, "");
        ADD_FAILURE() << "no kernel sizes accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_STREQ(e.what(), "kernel_sizes: needs at least one choice");
    }
    EXPECT_EQ(SpaceError("training: {learning_rate: {min: 0, max: 1, log_scale: true}}"),
              "space.yaml: training.learning_rate.min: must be >= 0.000001");
    EXPECT_EQ(SpaceError("blocks: {min: one, max: 2}"),
              "space.yaml: not a hilnas.v1.SearchSpace: (blocks.min): invalid value \"one\" for "
              "type TYPE_INT32");
    EXPECT_EQ(SpaceError("pruning: {target_sparsity: {min: 0.5, max: 0.2}}"),
              "space.yaml: pruning.target_sparsity.max: must be >= min");
    // Found by tests/fuzz/fuzz_search_space: a key that is a map escaped as
    // YAML::TypedBadConversion.
    EXPECT_EQ(SpaceError("? b-@@: 1}\n: "),
              "space.yaml: a key must be a field name, not a list or a map");
    EXPECT_EQ(SpaceError("training: {? [a]: 1}"),
              "space.yaml: training: a key must be a field name, not a list or a map");
    // The input and classes are the dataset's (a job spec's dataset.name).
    EXPECT_EQ(SpaceError("dataset: {name: imagenet}"),
              "space.yaml: dataset.name: unknown dataset 'imagenet' (fashion-mnist, mnist, "
              "cifar10)");
    // An input beyond the IR's 65535 overflowed int arithmetic while sampling.
    EXPECT_EQ(ShapeError({2147483647, 2147483647, 2147483647}, 10),
              "input: dimensions must be between 1 and 65535");
    EXPECT_EQ(ShapeError({28, 28, 1}, 70000), "classes: must be between 2 and 65535");
    try {
        SearchSpace s;
        s.blocks = {4, 2};
        ValidateSpace(s);
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_STREQ(e.what(), "search_space.blocks.max: must be >= min (4)");
    }
}

}  // namespace
}  // namespace hilnas::arch
