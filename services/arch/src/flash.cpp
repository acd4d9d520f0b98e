#include "hilnas/arch/flash.h"

#include <string>

#include "hilnas/common/errors.h"

namespace hilnas::arch {

namespace {

#include "flash_calibration.inc"

int64_t Align4(int64_t n) { return (n + 3) / 4 * 4; }

// The weight arrays model.c holds for layer `i`: its packed weights, then an
// int32 bias, multiplier and shift per output channel, each array aligned to 4.
int64_t WeightArrayBytes(const Graph& g, int i) {
    const Layer& l = g.model.layers[static_cast<size_t>(i)];
    const Shape& x = g.input_of(i);
    auto packed = [&](int64_t rows, int64_t row) {
        return l.bits() == 4 ? rows * ((row + 1) / 2) : rows * row;
    };
    int64_t weights = 0, channels = 0;
    switch (l.op) {
        case Op::kConv2d:
            channels = l.filters;
            weights = packed(channels, int64_t{l.kernel[0]} * l.kernel[1] * x.c);
            break;
        case Op::kDepthwiseConv2d:
            channels = int64_t{x.c} * l.depth_multiplier;
            weights = int64_t{l.kernel[0]} * l.kernel[1] * channels;
            break;
        case Op::kDense:
            channels = l.units;
            weights = packed(channels, x.elements());
            break;
        default:
            return 0;
    }
    return Align4(weights) + 3 * Align4(4 * channels);
}

}  // namespace

const FlashCalibration& FindFlashCalibration(std::string_view board, std::string_view runtime) {
    for (const FlashCalibration& c : kFlashCalibrations) {
        if (board == c.board && runtime == c.runtime) return c;
    }
    throw InvalidArgument("no flash calibration for board '" + std::string(board) +
                              "' and runtime '" + std::string(runtime) +
                              "' (run hilnas-calibrate-flash)",
                          "board");
}

SearchSpace FlashCalibrationSpace() {
    SearchSpace s;
    s.block_kinds = {BlockKind::kConv, BlockKind::kDepthwiseSeparable,
                     BlockKind::kInvertedBottleneck};
    s.channels = {4, 48};
    s.kernel_sizes = {1, 3, 5};
    s.downsampling = {Downsample::kNone, Downsample::kStride, Downsample::kMaxPool,
                      Downsample::kAvgPool};
    s.dense_layers = {0, 2};
    s.weight_bits = {8, 4};
    return s;
}

FlashPrediction PredictFlash(const Graph& g, const FlashCalibration& c) {
    FlashPrediction p;
    p.base_bytes = c.base_bytes;
    uint32_t called = 0;
    p.model_code_bytes = c.model_bytes + static_cast<int64_t>(g.model.name.size()) + 1;
    for (int i = 0; i < g.num_layers(); ++i) {
        const Kernel k = KernelOf(g.model.layers[static_cast<size_t>(i)]);
        if (k != Kernel::kView) called |= 1u << static_cast<int>(k);
        p.model_code_bytes += c.layer_bytes[static_cast<size_t>(k)];
        p.weight_array_bytes += WeightArrayBytes(g, i);
    }
    for (int i = 0; i < c.piece_count; ++i) {
        const FlashPiece& piece = c.pieces[i];
        if (piece.kernels == 0 || (piece.kernels & called) != 0) p.runtime_bytes += piece.bytes;
    }
    p.total_bytes = p.base_bytes + p.runtime_bytes + p.model_code_bytes + p.weight_array_bytes;
    return p;
}

}  // namespace hilnas::arch
