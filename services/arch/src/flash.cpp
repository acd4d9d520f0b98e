#include "hilnas/arch/flash.h"

#include <string>

#include "hilnas/arch/cost.h"
#include "hilnas/common/errors.h"

namespace hilnas::arch {

namespace {

#include "flash_calibration.inc"

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

Model FlashCalibrationModel(std::mt19937_64& rng, const std::string& name) {
    const SearchSpace space = FlashCalibrationSpace();
    Model model = BuildModel(space, Sample(space, rng), name);
    const Graph g = Analyze(model);
    std::uniform_real_distribution<double> keep(0.05, 0.6);
    for (int i = 0; i < g.num_layers(); ++i) {
        Layer& l = model.layers[static_cast<size_t>(i)];
        if ((l.op != Op::kConv2d && l.op != Op::kDense) || l.bits() != 8 || rng() % 3 != 0) {
            continue;
        }
        const WeightLayout w = WeightLayoutOf(g, i);
        l.nonzero_weights =
            static_cast<int64_t>(keep(rng) * static_cast<double>(w.rows * w.row_length));
    }
    return model;
}

FlashPrediction PredictFlash(const Graph& g, const std::vector<Kernel>& kernels,
                             const FlashCalibration& c) {
    FlashPrediction p;
    p.base_bytes = c.base_bytes;
    uint32_t called = 0;
    p.model_code_bytes = c.model_bytes + static_cast<int64_t>(g.model.name.size()) + 1;
    for (int i = 0; i < g.num_layers(); ++i) {
        const Kernel k = kernels.at(static_cast<size_t>(i));
        if (k != Kernel::kView) called |= 1u << static_cast<int>(k);
        p.model_code_bytes += c.layer_bytes[static_cast<size_t>(k)];
        p.weight_array_bytes += ComputeLayerCost(g, i, {}).weight_array_bytes;
    }
    for (int i = 0; i < c.piece_count; ++i) {
        const FlashPiece& piece = c.pieces[i];
        if (piece.kernels == 0 || (piece.kernels & called) != 0) p.runtime_bytes += piece.bytes;
    }
    p.total_bytes = p.base_bytes + p.runtime_bytes + p.model_code_bytes + p.weight_array_bytes;
    return p;
}

}  // namespace hilnas::arch
