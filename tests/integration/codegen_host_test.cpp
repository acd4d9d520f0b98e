// The generated C, compiled for the host with either build of the runtime
// (the Cortex-M kernels use the exact C models of the DSP intrinsics here),
// computes what the host runtime computes, bit for bit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/kernels.h"
#include "hilnas/arch/space.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/firmware/codegen.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::firmware {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Reads inputs of MODEL_INPUT_BYTES from stdin until EOF; writes each output.
constexpr const char* kDriver = R"(#include <stdio.h>
#include <string.h>
#include "model.h"
int main(void) {
    static int8_t in[MODEL_INPUT_BYTES];
    while (fread(in, 1, sizeof in, stdin) == sizeof in) {
        memcpy(model_input(), in, sizeof in);
        if (model_invoke() != 0) return 3;
        fwrite(model_output(), 1, MODEL_OUTPUT_BYTES, stdout);
    }
    return 0;
}
)";

std::string CompileGenerated(const v1::Int8Model& artifact, const std::string& variant,
                             const testing::TempDir& dir, const std::string& name,
                             bool sparse_weights) {
    const fs::path out = dir.path() / name;
    WriteGeneratedModel(GenerateModel(artifact, true, sparse_weights), out.string());
    std::ofstream(out / "driver.c") << kDriver;
    const fs::path rt = testing::SourcePath("firmware/runtime");
    ProcessOptions cc;
    cc.argv = {"cc",
               "-std=c99",
               "-O1",
               "-Wall",
               "-Wextra",
               "-Werror",
               "-Wno-unused-parameter",
               "-I" + out.string(),
               "-I" + (rt / "include").string(),
               "-I" + (rt / "src/common").string(),
               "-I" + (rt / "src" / variant).string(),
               (out / "model.c").string(),
               (out / "driver.c").string()};
    for (const auto& sub : {fs::path("src/common"), fs::path("src") / variant}) {
        for (const auto& f : fs::directory_iterator(rt / sub)) {
            if (f.path().extension() == ".c") cc.argv.push_back(f.path().string());
        }
    }
    cc.argv.insert(cc.argv.end(), {"-o", (out / "model").string()});
    cc.timeout = 120s;
    const ProcessResult r = RunProcess(cc);
    if (!r.ok()) ADD_FAILURE() << "cc " << r.Describe() << "\n" << r.err.substr(0, 3000);
    return (out / "model").string();
}

// Runs `artifact` as generated C with both builds of the runtime on five
// inputs (two of them all -128 and all 127) and expects the host runtime's
// outputs, bit for bit.
void ExpectGeneratedMatchesHost(const v1::Int8Model& artifact, const testing::TempDir& dir,
                                const std::string& name, std::mt19937_64& rng,
                                bool sparse_weights = true) {
    HostModel host(artifact);
    std::string inputs;
    std::vector<int8_t> expected;
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int n = 0; n < 5; ++n) {
        std::vector<int8_t> in(static_cast<size_t>(host.input_bytes()));
        for (auto& v : in) v = static_cast<int8_t>(byte(rng));
        if (n == 0) std::fill(in.begin(), in.end(), int8_t{-128});  // edge values
        if (n == 1) std::fill(in.begin(), in.end(), int8_t{127});
        inputs.append(reinterpret_cast<const char*>(in.data()), in.size());
        const auto out = host.Run(in);
        expected.insert(expected.end(), out.begin(), out.end());
    }
    for (const std::string variant : {"reference", "cortex_m"}) {
        const std::string exe =
            CompileGenerated(artifact, variant, dir, variant + name, sparse_weights);
        ProcessOptions run;
        run.argv = {exe};
        run.stdin_data = inputs;
        run.timeout = 60s;
        const ProcessResult r = RunProcess(run);
        ASSERT_TRUE(r.ok()) << variant << ": " << r.Describe();
        ASSERT_EQ(std::vector<int8_t>(r.out.begin(), r.out.end()), expected) << variant;
    }
}

TEST(CodegenHost, GeneratedCodeMatchesTheHostRuntimeOnBothBuilds) {
    arch::SearchSpace space;
    space.input = {10, 10, 3};
    space.blocks = {2, 4};
    space.block_kinds = {arch::BlockKind::kConv, arch::BlockKind::kDepthwiseSeparable,
                         arch::BlockKind::kInvertedBottleneck};
    space.channels = {3, 12};
    space.downsampling = {arch::Downsample::kNone, arch::Downsample::kStride,
                          arch::Downsample::kMaxPool, arch::Downsample::kAvgPool};
    space.dense_layers = {0, 2};
    space.weight_bits = {8, 4};
    std::mt19937_64 rng(21);
    testing::TempDir dir;
    for (int k = 0; k < 4; ++k) {
        const arch::Model model =
            arch::BuildModel(space, arch::Sample(space, rng), "m" + std::to_string(k));
        SCOPED_TRACE(arch::ModelToJson(model));
        const v1::Int8Model artifact =
            artifact::RandomArtifact(model, 100 + static_cast<uint64_t>(k));
        ExpectGeneratedMatchesHost(artifact, dir, std::to_string(k), rng);
        if (HasFatalFailure()) return;
    }
}

// A space with weight_bits {4} gives 4-bit depthwise layers (a block's bits
// reach all its layers): their artifacts validate with the cost model's weight
// bytes, lower to nn_depthwise_conv_s4 and run, generated and on the host,
// the same on both builds.
TEST(CodegenHost, AFourBitSpaceRunsFourBitDepthwiseLayers) {
    arch::SearchSpace space;
    space.input = {9, 11, 5};
    space.blocks = {2, 3};
    space.block_kinds = {arch::BlockKind::kDepthwiseSeparable,
                         arch::BlockKind::kInvertedBottleneck};
    space.channels = {3, 13};
    space.kernel_sizes = {3, 5};
    space.downsampling = {arch::Downsample::kNone, arch::Downsample::kStride};
    space.weight_bits = {4};
    std::mt19937_64 rng(22);
    testing::TempDir dir;
    for (int k = 0; k < 3; ++k) {
        const arch::Model model =
            arch::BuildModel(space, arch::Sample(space, rng), "dw4-" + std::to_string(k));
        SCOPED_TRACE(arch::ModelToJson(model));
        const v1::Int8Model artifact =
            artifact::RandomArtifact(model, 200 + static_cast<uint64_t>(k));
        const arch::Graph g = artifact::ValidateArtifact(artifact);
        const arch::CostReport cost = arch::ComputeCost(g);
        int depthwise = 0;
        for (int i = 0; i < g.num_layers(); ++i) {
            const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
            if (!l.has_weights()) continue;
            EXPECT_EQ(static_cast<int64_t>(artifact.layers(i).weights().size()) +
                          12 * artifact.layers(i).bias_size(),
                      cost.layers[static_cast<size_t>(i)].weight_bytes)
                << g.LayerName(i);
            if (l.op == arch::Op::kDepthwiseConv2d) {
                EXPECT_EQ(arch::KernelOf(g, i), arch::Kernel::kDepthwiseS4);
                ++depthwise;
            }
        }
        EXPECT_GE(depthwise, 2);
        EXPECT_NE(GenerateModel(artifact).source.find("nn_depthwise_conv_s4("), std::string::npos);
        ExpectGeneratedMatchesHost(artifact, dir, "dw4-" + std::to_string(k), rng);
        if (HasFatalFailure()) return;
    }
}

// Layers whose exact nonzero_weights make the runtime's sparse layout smaller
// than dense are stored so and call the sparse kernels (arch::KernelOf), the
// others stay dense. The generated code computes what the host runtime
// computes, bit for bit, on both builds, and so does the all-dense build of
// the same artifact (BuildOptions::sparse_weights = false): the sparse kernels
// equal the dense ones. The cost model counts the emitted bytes exactly.
TEST(CodegenHost, SparseWeightsCallTheSparseKernelsAndMatchTheHostRuntime) {
    const arch::Model model = arch::ModelFromJson(R"({"name": "sp", "input": {"shape": [7, 9, 5]},
      "layers": [{"op": "conv2d", "filters": 6, "kernel": 3, "padding": "same"},
                 {"op": "conv2d", "filters": 7, "kernel": 1},
                 {"op": "conv2d", "filters": 4, "kernel": 3, "stride": 2},
                 {"op": "flatten"}, {"op": "dense", "units": 9},
                 {"op": "dense", "units": 3}]})");
    v1::Int8Model artifact = artifact::RandomArtifact(model, 31);
    // Zeros: 80%, 70%, none (stays dense), -, 95%, 50%; at random places.
    const double zeros[] = {0.8, 0.7, 0.0, 0.0, 0.95, 0.5};
    std::mt19937_64 rng(32);
    int64_t saved = 0;
    for (int i = 0; i < artifact.layers_size(); ++i) {
        std::string& w = *artifact.mutable_layers(i)->mutable_weights();
        if (w.empty()) continue;
        int64_t nonzero = 0;
        for (char& v : w) {
            if (std::uniform_real_distribution<double>(0, 1)(rng) < zeros[i]) v = 0;
            nonzero += v != 0 ? 1 : 0;
        }
        artifact.mutable_model()->mutable_layers(i)->set_nonzero_weights(nonzero);
        // The layout's size, written from its definition: a bit per weight,
        // each row's bitmap whole bytes, and a byte per non-zero weight.
        const int64_t rows = artifact.layers(i).bias_size();
        const int64_t row_length = static_cast<int64_t>(w.size()) / rows;
        const int64_t sparse = rows * ((row_length + 7) / 8) + nonzero;
        saved += std::max<int64_t>(static_cast<int64_t>(w.size()) - sparse, 0);
    }
    artifact.set_sha256(artifact::ArtifactDigest(artifact));
    const GeneratedModel dense = GenerateModel(artifact, true, false);
    const GeneratedModel sparse = GenerateModel(artifact);
    EXPECT_EQ(dense.weight_bytes - sparse.weight_bytes, saved);
    const arch::Graph g = arch::Analyze(arch::ModelFromProto(artifact.model()));
    EXPECT_EQ(arch::ComputeCost(g).weight_bytes, sparse.weight_bytes);
    arch::Model without = g.model;
    for (arch::Layer& l : without.layers) l.nonzero_weights.reset();
    EXPECT_EQ(arch::ComputeCost(arch::Analyze(without)).weight_bytes, dense.weight_bytes);
    auto calls = [&](const std::string& function) {
        size_t n = 0;
        for (size_t p = sparse.source.find(function + "("); p != std::string::npos;
             p = sparse.source.find(function + "(", p + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(calls("nn_convolve_sparse_s8"), 2u);
    EXPECT_EQ(calls("nn_fully_connected_sparse_s8"), 2u);
    EXPECT_EQ(calls("nn_convolve_s8") + calls("nn_convolve_1x1_s8") +
                  calls("nn_convolve_1x1_in_place_s8"),
              1u);  // the layer without zeros
    testing::TempDir dir;
    ExpectGeneratedMatchesHost(artifact, dir, "sparse", rng, true);
    if (HasFatalFailure()) return;
    ExpectGeneratedMatchesHost(artifact, dir, "dense", rng, false);
}

TEST(CodegenHost, GenerationIsAPureFunctionOfTheArtifact) {
    const arch::Model model = arch::ModelFromJson(R"({"name": "p", "input": {"shape": [6, 6, 1]},
      "layers": [{"op": "conv2d", "filters": 2, "kernel": 3}, {"op": "flatten"},
                 {"op": "dense", "units": 3}]})");
    const auto a = GenerateModel(artifact::RandomArtifact(model, 1));
    const auto b = GenerateModel(artifact::RandomArtifact(model, 1));
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.header, b.header);
    EXPECT_NE(a.source, GenerateModel(artifact::RandomArtifact(model, 2)).source);
    testing::TempDir dir;
    WriteGeneratedModel(a, dir / "out");
    std::vector<std::string> files;
    for (const auto& f : fs::directory_iterator(dir.path() / "out"))
        files.push_back(f.path().filename());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{"model.c", "model.h"})) << "nothing else is written";
    // Every kernel call's status is checked.
    size_t calls = 0, checks = 0;
    for (size_t p = a.source.find("status = nn_"); p != std::string::npos;
         p = a.source.find("status = nn_", p + 1))
        ++calls;
    for (size_t p = a.source.find("if (status != NN_OK) return"); p != std::string::npos;
         p = a.source.find("if (status != NN_OK) return", p + 1))
        ++checks;
    EXPECT_EQ(calls, 2u);  // the flatten is a view
    EXPECT_EQ(checks, calls);
}

}  // namespace
}  // namespace hilnas::firmware
