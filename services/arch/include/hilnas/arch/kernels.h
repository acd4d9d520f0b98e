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
    kDepthwiseInPlace,      // nn_depthwise_conv_in_place_s8: a plan's choice, never KernelOf's
    kConv1x1InPlace,        // nn_convolve_1x1_in_place_s8: likewise
    kConvSparse,            // nn_convolve_sparse_s8: 8-bit weights in the sparse layout
    kFullyConnectedSparse,  // nn_fully_connected_sparse_s8: likewise
    kView,                  // flatten: no call, its output is its input's bytes
};
inline constexpr int kKernelCount = static_cast<int>(Kernel::kView) + 1;

// The kernel the firmware calls for `layer` of `graph`:
//  - an 8-bit convolution (any window) or dense layer whose weights are
//    smaller in the runtime's sparse layout (nn_quant.h: a bitmap per output
//    channel's row plus the non-zero values, nn_sparse_s8_bytes) than dense
//    takes nn_convolve_sparse_s8 / nn_fully_connected_sparse_s8. Only the
//    layer's exact `nonzero_weights` decides (the trainer's export writes it,
//    the artifact's validation checks it against the weights); a layer without
//    it, or with only a `sparsity` target, stays dense. The sparse layout is
//    smaller from about 12.5% zeros on; it costs instructions below ~70%;
//  - else 4-bit convolutions of any size take nn_convolve_s4, 8-bit 1×1 ones
//    the 1×1 path, the rest nn_convolve_s8; depthwise layers
//    nn_depthwise_conv_s4 or _s8 by their weight bits.
// The memory plan may then run a layer in place (MemoryPlan::kernels,
// InPlaceKernel): the final say is the plan's.
Kernel KernelOf(const Graph& graph, int layer);

// Bytes of `layer`'s weights in the runtime's sparse layout:
// nn_sparse_s8_bytes of its WeightLayoutOf rows and row length and its
// nonzero_weights; 0 when it has no nonzero_weights or the runtime's layout
// cannot hold it.
int64_t SparseWeightBytes(const Graph& graph, int layer);

// True for the kernels that read their weights in the sparse layout.
inline constexpr bool IsSparseKernel(Kernel k) {
    return k == Kernel::kConvSparse || k == Kernel::kFullyConnectedSparse;
}

// The in-place kernel `layer` of `graph` may take instead of KernelOf's, or
// nullopt: kDepthwiseInPlace for an 8-bit depthwise layer with channel
// multiplier 1 whose windows start inside its input, kConv1x1InPlace for an
// 8-bit 1x1 convolution of stride 1 (the runtime kernels' preconditions).
// Whether it does is the planner's decision: its input must also die there.
std::optional<Kernel> InPlaceKernel(const Graph& graph, int layer);

// The runtime function for a kernel, e.g. "nn_convolve_s8" ("" for kView).
const char* KernelFunction(Kernel kernel);

}  // namespace hilnas::arch
