// Which runtime kernel runs a layer: the one rule that the code generator
// (firmware/codegen's lowering), the memory planner's scratch sizes and the
// flash prediction all read.
#pragma once

#include <cstdint>
#include <optional>

#include "hilnas/arch/model.h"

namespace hilnas::arch {

enum class Kernel {
    kConv,
    kConv1x1,
    kConvS4,
    kDepthwise,
    kMaxPool,
    kAvgPool,
    kGlobalAvgPool,
    kFullyConnected,
    kFullyConnectedS4,
    kAdd,
    kDepthwiseS4,
    kDepthwiseInPlace,  // nn_depthwise_conv_in_place_s8: a plan's choice, never KernelOf's
    kConv1x1InPlace,    // nn_convolve_1x1_in_place_s8: likewise
    kView,              // flatten: no call, its output is its input's bytes
};
inline constexpr int kKernelCount = static_cast<int>(Kernel::kView) + 1;

// The kernel the firmware calls for `layer`: 4-bit convolutions of any size
// take nn_convolve_s4, 8-bit 1×1 ones the 1×1 path, the rest nn_convolve_s8;
// depthwise layers nn_depthwise_conv_s4 or _s8 by their weight bits. The
// memory plan may then run a layer in place (MemoryPlan::kernels,
// InPlaceKernel): the final say is the plan's.
Kernel KernelOf(const Layer& layer);

// The in-place kernel `layer` of `graph` may take instead of KernelOf's, or
// nullopt: kDepthwiseInPlace for an 8-bit depthwise layer with channel
// multiplier 1 whose windows start inside its input, kConv1x1InPlace for an
// 8-bit 1x1 convolution of stride 1 (the runtime kernels' preconditions).
// Whether it does is the planner's decision: its input must also die there.
std::optional<Kernel> InPlaceKernel(const Graph& graph, int layer);

// The runtime function for a kernel, e.g. "nn_convolve_s8" ("" for kView).
const char* KernelFunction(Kernel kernel);

}  // namespace hilnas::arch
