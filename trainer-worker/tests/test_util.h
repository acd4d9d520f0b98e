// Shared helpers of the trainer tests.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <random>
#include <string>

#include "hilnas/arch/model.h"

namespace hilnas::trainer::testing {

// A LeNet-sized classifier for 28x28x1 inputs.
inline arch::Model SmallLeNet(int c1 = 8, int c2 = 16, int hidden = 32) {
    return arch::ModelFromJson(R"({"name": "lenet", "input": {"shape": [28, 28, 1]}, "layers": [
        {"op": "conv2d", "filters": )" +
                               std::to_string(c1) +
                               R"(, "kernel": [5, 5], "padding": "same", "activation": "relu"},
        {"op": "max_pool", "pool": [2, 2]},
        {"op": "conv2d", "filters": )" +
                               std::to_string(c2) +
                               R"(, "kernel": [5, 5], "padding": "same", "activation": "relu"},
        {"op": "max_pool", "pool": [2, 2]},
        {"op": "flatten"},
        {"op": "dense", "units": )" +
                               std::to_string(hidden) +
                               R"(, "activation": "relu"},
        {"op": "dense", "units": 10}]})");
}

// Every op the builder knows: strided SAME convolution (asymmetric padding),
// depthwise, SAME pools, a residual add, global pooling and dense layers.
inline arch::Model EveryOp() {
    return arch::ModelFromJson(R"({"name": "every-op", "input": {"shape": [28, 28, 1]}, "layers": [
        {"id": "c0", "op": "conv2d", "filters": 8, "kernel": [3, 3], "stride": [2, 2], "padding": "same", "activation": "relu6"},
        {"id": "dw", "op": "depthwise_conv2d", "kernel": [3, 3], "padding": "same", "activation": "relu"},
        {"id": "pw", "op": "conv2d", "filters": 8, "kernel": [1, 1], "padding": "valid"},
        {"id": "add", "op": "add", "inputs": ["c0", "pw"], "activation": "relu"},
        {"op": "avg_pool", "pool": [3, 3], "stride": [2, 2], "padding": "same"},
        {"op": "max_pool", "pool": [2, 2], "padding": "same"},
        {"id": "c1", "op": "conv2d", "filters": 12, "kernel": [3, 3], "padding": "same", "activation": "relu"},
        {"op": "global_avg_pool"},
        {"op": "dense", "units": 16, "activation": "relu"},
        {"op": "dense", "units": 10}]})");
}

// `model` with 4-bit weights in every weighted layer, depthwise included.
inline arch::Model FourBit(arch::Model model) {
    model.name += "-4bit";
    for (arch::Layer& l : model.layers) {
        if (l.has_weights()) l.weight_bits = 4;
    }
    return model;
}

inline std::filesystem::path TempDir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("hilnas-trainer-" + name + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace hilnas::trainer::testing
