// The int8 model artifact: integrity on disk, validation of what the runtime
// relies on, and the host runtime running artifacts for sampled models.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/space.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::firmware {
namespace {

using ::testing::HasSubstr;

arch::Model Tiny() {
    return arch::ModelFromJson(R"({"name": "tiny", "input": {"shape": [12, 12, 2]}, "layers": [
      {"id": "c1", "op": "conv2d", "filters": 6, "kernel": 3, "padding": "same", "activation": "relu"},
      {"op": "max_pool", "pool": 2},
      {"id": "d1", "op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu6"},
      {"op": "conv2d", "filters": 6, "kernel": 1, "weight_bits": 4},
      {"op": "add", "inputs": ["d1", "prev"], "activation": "relu"},
      {"op": "global_avg_pool"},
      {"op": "dense", "units": 5}]})");
}

std::string ErrorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Artifact, RoundTripsThroughAFile) {
    testing::TempDir dir;
    const v1::Int8Model a = artifact::RandomArtifact(Tiny(), 7);
    EXPECT_EQ(a.sha256(), artifact::ArtifactDigest(a));
    artifact::WriteArtifact(dir / "m.hnm", a);
    const v1::Int8Model b = artifact::ReadArtifact(dir / "m.hnm");
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
    EXPECT_EQ(artifact::RandomArtifact(Tiny(), 7).sha256(), a.sha256())
        << "deterministic in the seed";
    EXPECT_NE(artifact::RandomArtifact(Tiny(), 8).sha256(), a.sha256());
}

TEST(Artifact, CorruptOrTruncatedFilesAreClearErrors) {
    const std::string bytes = artifact::SerializeArtifact(artifact::RandomArtifact(Tiny(), 1));
    EXPECT_THAT(
        ErrorOf([&] { artifact::ParseArtifact(bytes.substr(0, bytes.size() - 10), "m.hnm"); }),
        HasSubstr("m.hnm: truncated artifact: " + std::to_string(bytes.size() - 10) + " of " +
                  std::to_string(bytes.size()) + " bytes"));
    EXPECT_THAT(ErrorOf([&] { artifact::ParseArtifact(bytes.substr(0, 5), "m.hnm"); }),
                HasSubstr("no HILNASM1 header"));
    EXPECT_THAT(ErrorOf([&] { artifact::ParseArtifact(bytes + "xx", "m.hnm"); }),
                HasSubstr("2 stray bytes"));
    EXPECT_THAT(ErrorOf([&] { artifact::ParseArtifact("GIF89a" + bytes, "m.hnm"); }),
                HasSubstr("no HILNASM1 header"));
    // Flip a bit every 7 bytes of the body and trailer: never accepted.
    int rejected = 0;
    for (size_t i = 12; i < bytes.size(); i += 7) {
        std::string bad = bytes;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        const std::string e = ErrorOf([&] { artifact::ParseArtifact(bad, "m.hnm"); });
        ASSERT_THAT(e, HasSubstr("corrupt artifact")) << "byte " << i;
        ++rejected;
    }
    EXPECT_GT(rejected, 100);
    testing::TempDir dir;
    EXPECT_THAT(ErrorOf([&] { artifact::ReadArtifact(dir / "missing.hnm"); }),
                HasSubstr("cannot read the file"));
}

TEST(Artifact, ValidationNamesTheLayerAndField) {
    const v1::Int8Model good = artifact::RandomArtifact(Tiny(), 3);
    EXPECT_NO_THROW(artifact::ValidateArtifact(good));
    auto broken = [&](const std::function<void(v1::Int8Model&)>& edit) {
        v1::Int8Model m = good;
        edit(m);
        return ErrorOf([&] { artifact::ValidateArtifact(m); });
    };
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(0)->mutable_weights()->pop_back(); }),
                HasSubstr("layers[0].weights: layer 0 (c1): weights has 107 bytes, expected 108"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(3)->mutable_weights()->append("x"); }),
                HasSubstr("layers[3].weights"));  // 4-bit: 6 rows of ceil(6/2) bytes
    EXPECT_THAT(
        broken([](auto& m) { m.mutable_layers(2)->add_bias(1); }),
        HasSubstr("layers[2].bias: layer 2 (d1): bias has 7 values, expected one per output "
                  "channel (6)"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(6)->set_shift(0, 31); }),
                HasSubstr("layers[6].shift"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(0)->set_activation_min(-128); }),
                HasSubstr("does not match relu"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(1)->mutable_output()->set_zero_point(5); }),
                HasSubstr("max_pool keeps its input's quantisation"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers(4)->mutable_add()->set_left_shift(30); }),
                HasSubstr("layers[4].add.left_shift"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_input()->set_scale(0); }),
                HasSubstr("input: scale must be positive"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_layers()->RemoveLast(); }),
                HasSubstr("has 6 quantised layers for 7 model layers"));
    EXPECT_THAT(broken([](auto& m) { m.mutable_model()->mutable_layers(0)->set_filters(0); }),
                HasSubstr("filters must be between 1 and 65535"));
    EXPECT_THAT(broken([](auto& m) { m.set_format_version(2); }), HasSubstr("format version 2"));
}

// A model that carries its exact count of non-zero weights gets artifacts with
// that many (8- and 4-bit, depthwise included), validation holds the weights
// to it, and the cost model's SpArSe size is the artifact's.
TEST(Artifact, NonzeroWeightsAreExactAndChecked) {
    arch::Model model = Tiny();
    const int64_t counts[] = {20, -1, 11, 9, -1, -1, 3};  // -1: no weights
    for (size_t i = 0; i < model.layers.size(); ++i) {
        if (counts[i] >= 0) model.layers[i].nonzero_weights = counts[i];
    }
    const v1::Int8Model good = artifact::RandomArtifact(model, 4);
    EXPECT_NO_THROW(artifact::ValidateArtifact(good));
    const arch::Graph g = arch::Analyze(model);
    EXPECT_EQ(artifact::NonzeroWeightBytes(good), arch::ComputeCost(g).nonzero_weight_bytes);
    int64_t zero_bytes = 0;
    for (const char byte : good.layers(0).weights()) zero_bytes += byte == 0 ? 1 : 0;
    EXPECT_EQ(zero_bytes, 108 - 20);  // 3*3*2*6 weights
    v1::Int8Model m = good;
    std::string& w = *m.mutable_layers(0)->mutable_weights();
    *std::find(w.begin(), w.end(), '\0') = 1;
    EXPECT_THAT(ErrorOf([&] { artifact::ValidateArtifact(m); }),
                HasSubstr("layers[0].weights: layer 0 (c1): weights has 21 non-zero values, the "
                          "model says 20"));
}

TEST(HostModel, RunsArtifactsOfSampledModels) {
    arch::SearchSpace space;
    space.blocks = {1, 5};
    space.block_kinds = {arch::BlockKind::kConv, arch::BlockKind::kDepthwiseSeparable,
                         arch::BlockKind::kInvertedBottleneck};
    space.channels = {2, 24};
    space.downsampling = {arch::Downsample::kNone, arch::Downsample::kStride,
                          arch::Downsample::kMaxPool, arch::Downsample::kAvgPool};
    space.dense_layers = {0, 2};
    space.weight_bits = {8, 4};
    space.input = {16, 16, 3};
    std::mt19937_64 rng(5);
    int outputs = 0, inside = 0;
    for (int k = 0; k < 150; ++k) {
        const arch::Model m = arch::BuildModel(space, arch::Sample(space, rng), "m");
        HostModel host(artifact::RandomArtifact(m, static_cast<uint64_t>(k)));
        ASSERT_EQ(host.input_bytes(), 16 * 16 * 3);
        ASSERT_EQ(host.output_bytes(), 10);
        std::vector<int8_t> input(static_cast<size_t>(host.input_bytes()));
        std::uniform_int_distribution<int> byte(-128, 127);
        for (auto& v : input) v = static_cast<int8_t>(byte(rng));
        std::vector<int8_t> out;
        ASSERT_NO_THROW(out = host.Run(input)) << arch::ModelToJson(m);
        ASSERT_EQ(host.Run(input), out) << "runs are repeatable";
        for (int8_t v : out) {
            ++outputs;
            if (v > -128 && v < 127) ++inside;
        }
    }
    // Random artifacts are scaled to keep activations mostly inside int8, so a
    // comparison against them exercises real arithmetic, not saturation.
    EXPECT_GT(inside, outputs * 8 / 10);
}

TEST(HostModel, QuantisesInputsAsTheFirmwareReceivesThem) {
    v1::Int8Model a = artifact::RandomArtifact(Tiny(), 1);
    a.mutable_input()->set_scale(0.5);
    a.mutable_input()->set_zero_point(-10);
    HostModel host(a);
    std::vector<float> real(static_cast<size_t>(host.input_bytes()), 0.0f);
    real[0] = 1.24f;    // 2.48 -> 2, -8
    real[1] = -100.0f;  // saturates
    real[2] = 1000.0f;  // saturates
    real[3] = 0.25f;    // 0.5 rounds away from zero -> 1, -9
    const auto q = host.QuantizeInput(real);
    EXPECT_EQ(q[0], -8);
    EXPECT_EQ(q[1], -128);
    EXPECT_EQ(q[2], 127);
    EXPECT_EQ(q[3], -9);
    EXPECT_EQ(q[4], -10);
    EXPECT_THROW(host.QuantizeInput(std::vector<float>(3)), InvalidArgument);
    EXPECT_THROW(host.Run(std::vector<int8_t>(3)), InvalidArgument);
}

}  // namespace
}  // namespace hilnas::firmware
