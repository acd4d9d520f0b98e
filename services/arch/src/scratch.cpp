#include "hilnas/arch/kernels.h"
#include "hilnas/arch/planner.h"
#include "hilnas_nn/nn_functions.h"

namespace hilnas::arch {

// The runtime's own *_get_buffer_size(): the same in its reference and its
// Cortex-M build, so one plan serves both. The kernel a layer runs is
// KernelOf's choice (kernels.h), or the plan's in-place one.
int64_t RuntimeScratchBytes(const Graph& graph, int layer, Kernel kernel) {
    const Layer& l = graph.model.layers[static_cast<size_t>(layer)];
    const Shape& x = graph.input_of(layer);
    const nn_dims input{1, x.h, x.w, x.c};
    const nn_dims conv_filter{l.filters, l.kernel[0], l.kernel[1], x.c};
    const nn_dims dw_filter{1, l.kernel[0], l.kernel[1], x.c * l.depth_multiplier};
    const nn_dims window{1, l.pool[0], l.pool[1], 1};
    const int in = static_cast<int>(x.elements());
    const nn_dims flat{1, 1, 1, in};
    const nn_dims fc_filter{l.units, 1, 1, in};
    switch (kernel) {
        case Kernel::kConv:
            return nn_convolve_s8_get_buffer_size(&input, &conv_filter);
        case Kernel::kConv1x1:
            return nn_convolve_1x1_s8_get_buffer_size(&input, &conv_filter);
        case Kernel::kConv1x1InPlace:
            return nn_convolve_1x1_in_place_s8_get_buffer_size(&input, &conv_filter);
        case Kernel::kConvS4:
            return nn_convolve_s4_get_buffer_size(&input, &conv_filter);
        case Kernel::kDepthwise:
            return nn_depthwise_conv_s8_get_buffer_size(&input, &dw_filter);
        case Kernel::kDepthwiseS4:
            return nn_depthwise_conv_s4_get_buffer_size(&input, &dw_filter);
        case Kernel::kDepthwiseInPlace:
            return nn_depthwise_conv_in_place_s8_get_buffer_size(&input, &dw_filter);
        case Kernel::kMaxPool:
            return nn_max_pool_s8_get_buffer_size(&input, &window);
        case Kernel::kAvgPool:
            return nn_avg_pool_s8_get_buffer_size(&input, &window);
        case Kernel::kGlobalAvgPool:
            return nn_global_avg_pool_s8_get_buffer_size(&input);
        case Kernel::kFullyConnected:
            return nn_fully_connected_s8_get_buffer_size(&flat, &fc_filter);
        case Kernel::kConvSparse:
            return nn_convolve_sparse_s8_get_buffer_size(&input, &conv_filter);
        case Kernel::kFullyConnectedSparse:
            return nn_fully_connected_sparse_s8_get_buffer_size(&flat, &fc_filter);
        case Kernel::kFullyConnectedS4:
            return nn_fully_connected_s4_get_buffer_size(&flat, &fc_filter);
        case Kernel::kAdd:
            return nn_add_s8_get_buffer_size(&input);
        case Kernel::kView:
            return 0;
    }
    return 0;
}

}  // namespace hilnas::arch
