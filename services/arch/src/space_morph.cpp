// Local changes to a point: a mutation (one gene resampled or nudged), and a
// network morphism (widen, deepen, grow a kernel) with the mapping of the
// child's layers to the parent's weights.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "space_internal.h"

namespace hilnas::arch {

using detail::After;
using detail::Codec;
using detail::Flow;
using detail::kBlockDims;
using detail::Walk;

Point Mutate(const SearchSpace& s, const Point& point, std::mt19937_64& rng) {
    std::vector<double> u;
    Point copy = point;
    Codec codec(&u);
    Walk(s, copy, codec);
    // Dimensions that change this point: its active genes, and the block and
    // dense-layer counts.
    std::vector<size_t> dims;
    for (size_t i = 0; i < u.size(); ++i) {
        if (codec.active()[i]) dims.push_back(i);
    }
    const size_t dense_count_dim = 1 + static_cast<size_t>(s.blocks.max) * kBlockDims + 1;
    if (s.blocks.min < s.blocks.max) dims.push_back(0);
    if (s.dense_layers.min < s.dense_layers.max) dims.push_back(dense_count_dim);
    if (dims.empty()) return point;  // a space of one point
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> nudge(0.0, 0.15);
    for (int attempt = 0; attempt < 64; ++attempt) {
        std::vector<double> v = u;
        const size_t d =
            dims[static_cast<size_t>(unit(rng) * static_cast<double>(dims.size())) % dims.size()];
        v[d] = unit(rng) < 0.5 ? unit(rng) : std::clamp(v[d] + nudge(rng), 0.0, 1.0);
        Point child = Decode(s, v);
        if (!(child == point)) return child;
    }
    return Sample(s, rng);
}

namespace {

// "b3_conv" -> (3, "conv"); other ids -> (-1, id).
std::pair<int, std::string> SplitId(const std::string& id) {
    if (id.size() > 2 && id[0] == 'b' && std::isdigit(static_cast<unsigned char>(id[1]))) {
        const size_t us = id.find('_');
        if (us != std::string::npos) return {std::stoi(id.substr(1, us - 1)), id.substr(us + 1)};
    }
    return {-1, id};
}

// The last weighted layer of block `i` in a model built by BuildModel.
std::string BlockOutputLayer(const Block& b, size_t i) {
    const std::string pre = "b" + std::to_string(i) + "_";
    switch (b.kind) {
        case BlockKind::kConv:
            return pre + "conv";
        case BlockKind::kDepthwiseSeparable:
            return pre + "pw";
        case BlockKind::kInvertedBottleneck:
            return pre + "project";
    }
    return pre;
}

// Maps every child layer to its parent layer; `widened` names the child layer
// whose output channels follow `channel_map` (empty: none), `inserted` the
// block that is new (-1: none).
std::vector<LayerMapping> MapLayers(const SearchSpace& s, const Point& parent, const Point& child,
                                    int inserted, const std::string& widened,
                                    const std::vector<int>& channel_map) {
    const Graph pg = Analyze(BuildModel(s, parent));
    const Graph cg = Analyze(BuildModel(s, child));
    std::map<std::string, int> parent_index;
    for (int i = 0; i < pg.num_layers(); ++i)
        parent_index[pg.model.layers[static_cast<size_t>(i)].id] = i;

    // Per child tensor: child channel -> parent channel (empty: identity).
    std::vector<std::vector<int>> tmap(static_cast<size_t>(cg.num_layers()) + 1);
    std::vector<LayerMapping> out;
    for (int i = 0; i < cg.num_layers(); ++i) {
        const Layer& l = cg.model.layers[static_cast<size_t>(i)];
        LayerMapping m;
        m.child_layer = i;
        auto [block, role] = SplitId(l.id);
        std::string parent_id = l.id;
        if (block >= 0 && inserted >= 0) {
            if (block == inserted) parent_id.clear();
            if (block > inserted) parent_id = "b" + std::to_string(block - 1) + "_" + role;
        }
        const auto found = parent_id.empty() ? parent_index.end() : parent_index.find(parent_id);
        const std::vector<int>& in =
            tmap[static_cast<size_t>(cg.inputs[static_cast<size_t>(i)][0])];
        std::vector<int> produced;  // this layer's output map
        if (found == parent_index.end()) {
            m.kind =
                block == inserted && inserted >= 0 ? MorphismKind::kIdentity : MorphismKind::kFresh;
            m.in_channel_map = in;
            produced = in;
            if (l.op == Op::kConv2d || l.op == Op::kDense) produced.clear();
            out.push_back(std::move(m));
            tmap[static_cast<size_t>(i) + 1] = std::move(produced);
            continue;
        }
        m.parent_layer = found->second;
        const Layer& pl = pg.model.layers[static_cast<size_t>(m.parent_layer)];
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDense:
                m.in_channel_map = in;
                if (l.id == widened) produced = channel_map;
                break;
            case Op::kDepthwiseConv2d:
            case Op::kMaxPool:
            case Op::kAvgPool:
            case Op::kGlobalAvgPool:
                produced = in;
                if (l.op == Op::kDepthwiseConv2d) m.in_channel_map = in;
                break;
            case Op::kFlatten:
                if (!in.empty()) {
                    const Shape& x = cg.input_of(i);
                    const Shape& px = pg.input_of(m.parent_layer);
                    for (int pos = 0; pos < x.h * x.w; ++pos) {
                        for (int ch = 0; ch < x.c; ++ch)
                            produced.push_back(pos * px.c + in[static_cast<size_t>(ch)]);
                    }
                }
                break;
            case Op::kAdd:
                produced = in;
                break;
        }
        m.out_channel_map = produced;
        if (l.op == Op::kFlatten || l.op == Op::kAdd || l.op == Op::kMaxPool ||
            l.op == Op::kAvgPool || l.op == Op::kGlobalAvgPool) {
            m.out_channel_map.clear();  // no weights: the map only travels on
        }
        if (l.kernel[0] > pl.kernel[0]) {
            m.kind = MorphismKind::kGrowKernel;
        } else if (!m.in_channel_map.empty() || !m.out_channel_map.empty()) {
            m.kind = MorphismKind::kWiden;
        } else {
            m.kind = MorphismKind::kCopy;
        }
        tmap[static_cast<size_t>(i) + 1] = std::move(produced);
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace

std::optional<Morphed> Morph(const SearchSpace& s, const Point& parent, std::mt19937_64& rng) {
    std::vector<std::function<std::optional<Morphed>()>> options;
    const size_t n = parent.blocks.size();

    // Widen block i: its channels grow, the new ones copying existing ones
    // (Net2Net). Not where a residual ties the channel count.
    for (size_t i = 0; i < n; ++i) {
        const Block& b = parent.blocks[i];
        // An inverted bottleneck after it sizes its expansion by its input: not a pure widening.
        const bool tied =
            b.residual ||
            (i + 1 < n && (parent.blocks[i + 1].residual ||
                           parent.blocks[i + 1].kind == BlockKind::kInvertedBottleneck));
        if (tied || b.channels >= s.channels.max) continue;
        options.push_back([&, i]() -> std::optional<Morphed> {
            Morphed m;
            m.child = parent;
            Block& cb = m.child.blocks[i];
            const int old = cb.channels;
            std::uniform_real_distribution<double> factor(1.25, 2.0);
            cb.channels = std::min(
                s.channels.max, std::max(old + 1, static_cast<int>(std::ceil(old * factor(rng)))));
            m.child = Normalize(s, m.child);
            if (m.child.blocks[i].channels <= old) return std::nullopt;
            std::vector<int> map(static_cast<size_t>(m.child.blocks[i].channels));
            std::uniform_int_distribution<int> pick(0, old - 1);
            for (size_t k = 0; k < map.size(); ++k)
                map[k] = k < static_cast<size_t>(old) ? static_cast<int>(k) : pick(rng);
            m.operation = "widen b" + std::to_string(i);
            m.layers =
                MapLayers(s, parent, m.child, -1, BlockOutputLayer(m.child.blocks[i], i), map);
            return m;
        });
    }
    // Grow the kernel of block i to the next size in the space.
    for (size_t i = 0; i < n; ++i) {
        const Block& b = parent.blocks[i];
        int next = 0;
        for (int k : s.kernel_sizes) {
            if (k > b.kernel && (next == 0 || k < next)) next = k;
        }
        if (next == 0) continue;
        options.push_back([&, i, next]() -> std::optional<Morphed> {
            Morphed m;
            m.child = parent;
            m.child.blocks[i].kernel = next;
            m.child = Normalize(s, m.child);
            m.operation = "grow-kernel b" + std::to_string(i);
            m.layers = MapLayers(s, parent, m.child, -1, "", {});
            return m;
        });
    }
    // Insert, after block i (or first), a block that can start as the identity:
    // a residual block whose last layer starts at zero, or without residuals a
    // convolution with the identity kernel.
    if (static_cast<int>(n) < s.blocks.max) {
        Flow flow{s.input.h, s.input.w, s.input.c};
        for (size_t at = 0; at <= n; ++at) {
            if (at > 0) flow = After(flow, parent.blocks[at - 1]);
            if (flow.c < s.channels.min || flow.c > s.channels.max) continue;
            const int channels = flow.c;
            options.push_back([&, at, channels]() -> std::optional<Morphed> {
                Block fresh;
                const bool has_ib =
                    std::find(s.block_kinds.begin(), s.block_kinds.end(),
                              BlockKind::kInvertedBottleneck) != s.block_kinds.end();
                fresh.kind = s.allow_residual && has_ib
                                 ? BlockKind::kInvertedBottleneck
                                 : (std::find(s.block_kinds.begin(), s.block_kinds.end(),
                                              BlockKind::kConv) != s.block_kinds.end()
                                        ? BlockKind::kConv
                                        : s.block_kinds.front());
                fresh.channels = channels;
                fresh.kernel = *std::min_element(s.kernel_sizes.begin(), s.kernel_sizes.end());
                fresh.down = std::find(s.downsampling.begin(), s.downsampling.end(),
                                       Downsample::kNone) != s.downsampling.end()
                                 ? Downsample::kNone
                                 : s.downsampling.front();
                if (fresh.down != Downsample::kNone) return std::nullopt;
                fresh.residual = s.allow_residual;
                fresh.expansion = s.expansions.front();
                fresh.bits =
                    std::find(s.weight_bits.begin(), s.weight_bits.end(), 8) != s.weight_bits.end()
                        ? 8
                        : s.weight_bits.front();
                Morphed m;
                m.child = parent;
                m.child.blocks.insert(m.child.blocks.begin() + static_cast<std::ptrdiff_t>(at),
                                      fresh);
                m.child = Normalize(s, m.child);
                if (m.child.blocks.size() != n + 1 || !(m.child.blocks[at] == fresh))
                    return std::nullopt;
                // The block after the new one must keep its own shape rules.
                for (size_t k = 0; k < n; ++k) {
                    if (!(m.child.blocks[k + (k >= at ? 1 : 0)] == parent.blocks[k]))
                        return std::nullopt;
                }
                m.operation =
                    at == 0 ? "deepen at the start" : "deepen after b" + std::to_string(at - 1);
                m.layers = MapLayers(s, parent, m.child, static_cast<int>(at), "", {});
                return m;
            });
        }
    }
    std::shuffle(options.begin(), options.end(), rng);
    for (auto& option : options) {
        if (auto m = option()) return m;
    }
    return std::nullopt;
}

}  // namespace hilnas::arch
