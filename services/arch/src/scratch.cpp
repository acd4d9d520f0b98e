#include "hilnas/arch/planner.h"

namespace hilnas::arch {

// Mirrors the *_get_buffer_size() contract of firmware/runtime: the scratch a
// kernel needs is the same in its reference and its Cortex-M build, so one
// plan serves both.
int64_t RuntimeScratchBytes(const Graph& graph, int layer) {
    const Layer& l = graph.model.layers[static_cast<size_t>(layer)];
    const Shape& x = graph.input_of(layer);
    switch (l.op) {
        case Op::kConv2d: {
            const bool pointwise =
                l.kernel == std::array<int, 2>{1, 1} && l.stride == std::array<int, 2>{1, 1};
            if (pointwise) return 0;
            // im2col of two output pixels as int16.
            return 2 * int64_t{l.kernel[0]} * l.kernel[1] * x.c * 2;
        }
        case Op::kAvgPool:
        case Op::kGlobalAvgPool:
            return int64_t{x.c} * 4;  // int32 sums per channel
        default:
            return 0;
    }
}

}  // namespace hilnas::arch
