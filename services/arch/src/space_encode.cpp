// Points as the optimiser sees them: canonical (Normalize), encoded into
// [0, 1]^d and decoded back, and sampled uniformly.
#include <algorithm>
#include <cmath>
#include <random>

#include "space_internal.h"

namespace hilnas::arch {

namespace {

template <typename T>
int IndexOf(const std::vector<T>& choices, const T& value) {
    const auto it = std::find(choices.begin(), choices.end(), value);
    return it == choices.end() ? 0 : static_cast<int>(it - choices.begin());
}

// Nearest choice to `value` among integers.
int Snap(const std::vector<int>& choices, int value) {
    int best = choices.front();
    for (int c : choices) {
        if (std::abs(c - value) < std::abs(best - value)) best = c;
    }
    return best;
}

template <typename T>
T SnapEnum(const std::vector<T>& choices, T value) {
    return std::find(choices.begin(), choices.end(), value) == choices.end() ? choices.front()
                                                                             : value;
}

// Reals carry three significant digits, so they survive encode/decode exactly.
double Round3(double v) {
    if (v == 0.0 || !std::isfinite(v)) return 0.0;
    const double scale = std::pow(10.0, std::floor(std::log10(std::fabs(v))) - 2);
    return std::round(v / scale) * scale;
}
double NormaliseReal(double v, const RealRange& r) { return std::clamp(Round3(v), r.min, r.max); }

}  // namespace

namespace detail {

void Walk(const SearchSpace& s, Point& p, Codec& c) {
    const auto bits_count = static_cast<int>(s.weight_bits.size());
    const int n = c.Int(static_cast<int>(p.blocks.size()), s.blocks, false);
    if (c.decoding()) p.blocks.resize(static_cast<size_t>(n));
    for (int slot = 0; slot < s.blocks.max; ++slot) {
        if (slot >= n) {
            c.Skip(kBlockDims);
            continue;
        }
        Block& b = p.blocks[static_cast<size_t>(slot)];
        b.kind = s.block_kinds[static_cast<size_t>(
            c.Cat(IndexOf(s.block_kinds, b.kind), static_cast<int>(s.block_kinds.size())))];
        b.channels = c.Int(b.channels, s.channels, true);
        b.kernel = s.kernel_sizes[static_cast<size_t>(
            c.Cat(IndexOf(s.kernel_sizes, b.kernel), static_cast<int>(s.kernel_sizes.size())))];
        b.down = s.downsampling[static_cast<size_t>(
            c.Cat(IndexOf(s.downsampling, b.down), static_cast<int>(s.downsampling.size())))];
        b.residual = c.Cat(b.residual ? 1 : 0, s.allow_residual ? 2 : 1) == 1;
        b.expansion = s.expansions[static_cast<size_t>(
            c.Cat(IndexOf(s.expansions, b.expansion), static_cast<int>(s.expansions.size()),
                  b.kind == BlockKind::kInvertedBottleneck))];
        b.bits =
            s.weight_bits[static_cast<size_t>(c.Cat(IndexOf(s.weight_bits, b.bits), bits_count))];
    }
    p.head = s.heads[static_cast<size_t>(
        c.Cat(IndexOf(s.heads, p.head), static_cast<int>(s.heads.size())))];
    const int d = c.Int(static_cast<int>(p.dense.size()), s.dense_layers, false);
    if (c.decoding()) p.dense.resize(static_cast<size_t>(d));
    for (int slot = 0; slot < s.dense_layers.max; ++slot) {
        if (slot >= d) {
            c.Skip(kDenseDims);
            continue;
        }
        Hidden& h = p.dense[static_cast<size_t>(slot)];
        h.units = c.Int(h.units, s.dense_units, true);
        h.bits =
            s.weight_bits[static_cast<size_t>(c.Cat(IndexOf(s.weight_bits, h.bits), bits_count))];
    }
    p.classifier_bits = s.weight_bits[static_cast<size_t>(
        c.Cat(IndexOf(s.weight_bits, p.classifier_bits), bits_count))];
    p.pruning = s.pruning_methods[static_cast<size_t>(
        c.Cat(IndexOf(s.pruning_methods, p.pruning), static_cast<int>(s.pruning_methods.size())))];
    p.target_sparsity =
        c.Real(p.target_sparsity, s.target_sparsity, p.pruning != PruningMethod::kNone);
    p.optimizer = s.optimizers[static_cast<size_t>(
        c.Cat(IndexOf(s.optimizers, p.optimizer), static_cast<int>(s.optimizers.size())))];
    p.learning_rate = c.Real(p.learning_rate, s.learning_rate);
    p.weight_decay = c.Real(p.weight_decay, s.weight_decay);
    p.epochs = c.Int(p.epochs, s.epochs, false);
    p.batch_size = s.batch_sizes[static_cast<size_t>(
        c.Cat(IndexOf(s.batch_sizes, p.batch_size), static_cast<int>(s.batch_sizes.size())))];
    p.dnas = c.Cat(p.dnas ? 1 : 0, s.dnas ? 2 : 1) == 1;
    p.dnas_shrink = c.Real(p.dnas_shrink, s.dnas_shrink, p.dnas);
}

}  // namespace detail

using detail::After;
using detail::Codec;
using detail::Flow;
using detail::kBlockDims;
using detail::kDenseDims;
using detail::Walk;

Point Normalize(const SearchSpace& s, Point p) {
    if (static_cast<int>(p.blocks.size()) < s.blocks.min) {
        Block fill;
        fill.kind = s.block_kinds.front();
        fill.channels = s.channels.min;
        fill.kernel = s.kernel_sizes.front();
        fill.down = s.downsampling.front();
        fill.expansion = s.expansions.front();
        fill.bits = s.weight_bits.front();
        p.blocks.resize(static_cast<size_t>(s.blocks.min), fill);
    }
    if (static_cast<int>(p.blocks.size()) > s.blocks.max)
        p.blocks.resize(static_cast<size_t>(s.blocks.max));
    Flow flow{s.input.h, s.input.w, s.input.c};
    for (Block& b : p.blocks) {
        b.kind = SnapEnum(s.block_kinds, b.kind);
        b.channels = std::clamp(b.channels, s.channels.min, s.channels.max);
        b.kernel = Snap(s.kernel_sizes, b.kernel);
        b.down = SnapEnum(s.downsampling, b.down);
        if (b.down != Downsample::kNone && (flow.h < 2 || flow.w < 2)) {
            b.down = std::find(s.downsampling.begin(), s.downsampling.end(), Downsample::kNone) !=
                             s.downsampling.end()
                         ? Downsample::kNone
                         : Downsample::kStride;  // stride 2 on 1x1 stays 1x1 with SAME padding
        }
        b.residual =
            b.residual && s.allow_residual && b.down != Downsample::kStride && b.channels == flow.c;
        b.expansion = b.kind == BlockKind::kInvertedBottleneck ? Snap(s.expansions, b.expansion)
                                                               : s.expansions.front();
        b.bits = Snap(s.weight_bits, b.bits);
        flow = After(flow, b);
    }
    p.head = SnapEnum(s.heads, p.head);
    // The runtime's dense layer takes at most 65535 inputs: a larger flatten
    // becomes global pooling where the space allows it (else the IR is
    // invalid and the optimiser counts the point as infeasible).
    const bool has_gap =
        std::find(s.heads.begin(), s.heads.end(), HeadKind::kGlobalAvgPool) != s.heads.end();
    if (p.head == HeadKind::kFlatten && int64_t{flow.h} * flow.w * flow.c > 65535 && has_gap) {
        p.head = HeadKind::kGlobalAvgPool;
    }
    p.dense.resize(static_cast<size_t>(std::clamp(static_cast<int>(p.dense.size()),
                                                  s.dense_layers.min, s.dense_layers.max)),
                   Hidden{s.dense_units.min, s.weight_bits.front()});
    for (Hidden& h : p.dense) {
        h.units = std::clamp(h.units, s.dense_units.min, s.dense_units.max);
        h.bits = Snap(s.weight_bits, h.bits);
    }
    p.classifier_bits = Snap(s.weight_bits, p.classifier_bits);
    p.pruning = SnapEnum(s.pruning_methods, p.pruning);
    p.target_sparsity = p.pruning == PruningMethod::kNone
                            ? s.target_sparsity.min
                            : NormaliseReal(p.target_sparsity, s.target_sparsity);
    p.optimizer = SnapEnum(s.optimizers, p.optimizer);
    p.learning_rate = NormaliseReal(p.learning_rate, s.learning_rate);
    p.weight_decay = NormaliseReal(p.weight_decay, s.weight_decay);
    p.epochs = std::clamp(p.epochs, s.epochs.min, s.epochs.max);
    p.batch_size = Snap(s.batch_sizes, p.batch_size);
    p.dnas = p.dnas && s.dnas;
    p.dnas_shrink = p.dnas ? NormaliseReal(p.dnas_shrink, s.dnas_shrink) : s.dnas_shrink.min;
    return p;
}

int EncodingSize(const SearchSpace& s) {
    return 1 + s.blocks.max * kBlockDims + 1 + 1 + s.dense_layers.max * kDenseDims + 1 + 2 + 5 + 2;
}

std::vector<double> Encode(const SearchSpace& s, const Point& point) {
    std::vector<double> u;
    u.reserve(static_cast<size_t>(EncodingSize(s)));
    Point copy = point;
    Codec codec(&u);
    Walk(s, copy, codec);
    return u;
}

Point Decode(const SearchSpace& s, const std::vector<double>& u) {
    Point p;
    Codec codec(&u);
    Walk(s, p, codec);
    return Normalize(s, std::move(p));
}

Point Sample(const SearchSpace& s, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> u(static_cast<size_t>(EncodingSize(s)));
    for (double& x : u) x = unit(rng);
    return Decode(s, u);
}

}  // namespace hilnas::arch
