// Which runtime kernel runs a layer: the one rule that the code generator
// (firmware/codegen's lowering), the memory planner's scratch sizes and the
// flash prediction all read.
#pragma once

#include <cstdint>

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
    // Appended, so that the bits of flash_calibration.inc's kernel masks keep
    // their meaning until it is regenerated.
    kDepthwiseS4,
    kView,  // flatten: no call, its output is its input's bytes
};
inline constexpr int kKernelCount = static_cast<int>(Kernel::kView) + 1;

// The kernel the firmware calls for `layer`: 4-bit convolutions of any size
// take nn_convolve_s4, 8-bit 1×1 ones the 1×1 path, the rest nn_convolve_s8;
// depthwise layers nn_depthwise_conv_s4 or _s8 by their weight bits.
Kernel KernelOf(const Layer& layer);

// The runtime function for a kernel, e.g. "nn_convolve_s8" ("" for kView).
const char* KernelFunction(Kernel kernel);

}  // namespace hilnas::arch
