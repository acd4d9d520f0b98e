#include "hilnas/arch/kernels.h"
#include "hilnas/arch/planner.h"
#include "hilnas_nn/nn_functions.h"

namespace hilnas::arch {

// The runtime's own *_get_buffer_size(): the same in its reference and its
// Cortex-M build, so one plan serves both. The kernel a layer runs is
// KernelOf's choice (kernels.h), which the code generator follows too.
int64_t RuntimeScratchBytes(const Graph& graph, int layer) {
    const Layer& l = graph.model.layers[static_cast<size_t>(layer)];
    const Shape& x = graph.input_of(layer);
    const nn_dims input{1, x.h, x.w, x.c};
    switch (l.op) {
        case Op::kConv2d: {
            const nn_dims filter{l.filters, l.kernel[0], l.kernel[1], x.c};
            switch (KernelOf(l)) {
                case Kernel::kConvS4:
                    return nn_convolve_s4_get_buffer_size(&input, &filter);
                case Kernel::kConv1x1:
                    return nn_convolve_1x1_s8_get_buffer_size(&input, &filter);
                default:
                    return nn_convolve_s8_get_buffer_size(&input, &filter);
            }
        }
        case Op::kDepthwiseConv2d: {
            const nn_dims filter{1, l.kernel[0], l.kernel[1], x.c * l.depth_multiplier};
            return KernelOf(l) == Kernel::kDepthwiseS4
                       ? nn_depthwise_conv_s4_get_buffer_size(&input, &filter)
                       : nn_depthwise_conv_s8_get_buffer_size(&input, &filter);
        }
        case Op::kMaxPool:
        case Op::kAvgPool: {
            const nn_dims window{1, l.pool[0], l.pool[1], 1};
            return l.op == Op::kMaxPool ? nn_max_pool_s8_get_buffer_size(&input, &window)
                                        : nn_avg_pool_s8_get_buffer_size(&input, &window);
        }
        case Op::kGlobalAvgPool:
            return nn_global_avg_pool_s8_get_buffer_size(&input);
        case Op::kDense: {
            const int in = static_cast<int>(x.elements());
            const nn_dims flat{1, 1, 1, in};
            const nn_dims filter{l.units, 1, 1, in};
            return KernelOf(l) == Kernel::kFullyConnectedS4
                       ? nn_fully_connected_s4_get_buffer_size(&flat, &filter)
                       : nn_fully_connected_s8_get_buffer_size(&flat, &filter);
        }
        case Op::kAdd: {
            const nn_dims dims{1, x.h, x.w, x.c};
            return nn_add_s8_get_buffer_size(&dims);
        }
        case Op::kFlatten:
            return 0;
    }
    return 0;
}

}  // namespace hilnas::arch
