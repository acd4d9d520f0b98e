#include "hilnas/arch/kernels.h"

#include <limits>

#include "hilnas/arch/cost.h"
#include "hilnas_nn/nn_quant.h"

namespace hilnas::arch {

namespace {

// Whether the runtime's sparse layout of the layer's 8-bit weights is smaller
// than their dense bytes: the runtime's own size rule (nn_sparse_s8_bytes,
// which is 0 for a layout it cannot hold).
bool SparseIsSmaller(const Graph& g, int layer) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    if (l.bits() != 8 || !l.nonzero_weights) return false;
    const int64_t sparse = SparseWeightBytes(g, layer);
    return sparse > 0 && sparse < WeightLayoutOf(g, layer).bytes();
}

}  // namespace

int64_t SparseWeightBytes(const Graph& g, int layer) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    const WeightLayout w = WeightLayoutOf(g, layer);
    const int64_t limit = std::numeric_limits<int32_t>::max();
    if (!l.nonzero_weights || w.rows > limit || w.row_length > limit ||
        *l.nonzero_weights > limit) {
        return 0;
    }
    return nn_sparse_s8_bytes(static_cast<int32_t>(w.rows), static_cast<int32_t>(w.row_length),
                              static_cast<int32_t>(*l.nonzero_weights));
}

Kernel KernelOf(const Graph& g, int layer) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    switch (l.op) {
        case Op::kConv2d:
            if (SparseIsSmaller(g, layer)) return Kernel::kConvSparse;
            if (l.bits() == 4) return Kernel::kConvS4;
            return l.kernel == std::array<int, 2>{1, 1} ? Kernel::kConv1x1 : Kernel::kConv;
        case Op::kDepthwiseConv2d:
            return l.bits() == 4 ? Kernel::kDepthwiseS4 : Kernel::kDepthwise;
        case Op::kMaxPool:
            return Kernel::kMaxPool;
        case Op::kAvgPool:
            return Kernel::kAvgPool;
        case Op::kGlobalAvgPool:
            return Kernel::kGlobalAvgPool;
        case Op::kDense:
            if (SparseIsSmaller(g, layer)) return Kernel::kFullyConnectedSparse;
            return l.bits() == 4 ? Kernel::kFullyConnectedS4 : Kernel::kFullyConnected;
        case Op::kAdd:
            return Kernel::kAdd;
        case Op::kFlatten:
            return Kernel::kView;
    }
    return Kernel::kView;
}

std::optional<Kernel> InPlaceKernel(const Graph& g, int layer) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    const Shape& x = g.input_of(layer);
    const Shape& y = g.output(layer);
    switch (KernelOf(g, layer)) {
        case Kernel::kDepthwise:
            if (l.depth_multiplier == 1 && int64_t{y.h - 1} * l.stride[0] < x.h &&
                int64_t{y.w - 1} * l.stride[1] < x.w) {
                return Kernel::kDepthwiseInPlace;
            }
            return std::nullopt;
        case Kernel::kConv1x1:
            if (l.stride == std::array<int, 2>{1, 1} && y.h == x.h && y.w == x.w) {
                return Kernel::kConv1x1InPlace;
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

const char* KernelFunction(Kernel kernel) {
    switch (kernel) {
        case Kernel::kConv:
            return "nn_convolve_s8";
        case Kernel::kConv1x1:
            return "nn_convolve_1x1_s8";
        case Kernel::kConvS4:
            return "nn_convolve_s4";
        case Kernel::kDepthwise:
            return "nn_depthwise_conv_s8";
        case Kernel::kDepthwiseS4:
            return "nn_depthwise_conv_s4";
        case Kernel::kMaxPool:
            return "nn_max_pool_s8";
        case Kernel::kAvgPool:
            return "nn_avg_pool_s8";
        case Kernel::kGlobalAvgPool:
            return "nn_global_avg_pool_s8";
        case Kernel::kFullyConnected:
            return "nn_fully_connected_s8";
        case Kernel::kFullyConnectedS4:
            return "nn_fully_connected_s4";
        case Kernel::kAdd:
            return "nn_add_s8";
        case Kernel::kDepthwiseInPlace:
            return "nn_depthwise_conv_in_place_s8";
        case Kernel::kConv1x1InPlace:
            return "nn_convolve_1x1_in_place_s8";
        case Kernel::kConvSparse:
            return "nn_convolve_sparse_s8";
        case Kernel::kFullyConnectedSparse:
            return "nn_fully_connected_sparse_s8";
        case Kernel::kView:
            return "";
    }
    return "";
}

}  // namespace hilnas::arch
