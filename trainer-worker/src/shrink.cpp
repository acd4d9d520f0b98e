#include "shrink.h"

#include <numeric>
#include <string>

#include "hilnas/common/errors.h"

namespace hilnas::trainer {

namespace {

using arch::Op;

std::vector<int64_t> All(int64_t n) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

// Channel indices of an [H, W, C] tensor with channels `map` (of C) as flat
// NHWC element indices, the view a dense layer or flatten has of it.
std::vector<int64_t> Flat(const arch::Shape& s, const std::vector<int64_t>& map) {
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(s.h) * s.w * map.size());
    for (int64_t p = 0; p < int64_t{s.h} * s.w; ++p) {
        for (int64_t c : map) out.push_back(p * s.c + c);
    }
    return out;
}

torch::Tensor Index(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong); }

}  // namespace

std::vector<bool> ShrinkableLayers(const arch::Graph& g) {
    const int n = g.num_layers();
    std::vector<bool> out(static_cast<size_t>(n), false);
    for (int i = 0; i < n - 1; ++i) {
        const Op op = g.model.layers[static_cast<size_t>(i)].op;
        if (op != Op::kConv2d && op != Op::kDense) continue;
        bool ok = true;
        std::vector<int> frontier{i + 1};
        while (ok && !frontier.empty()) {
            const int t = frontier.back();
            frontier.pop_back();
            if (t == n) ok = false;  // reaches the model output
            for (int c : g.consumers[static_cast<size_t>(t)]) {
                const Op cop = g.model.layers[static_cast<size_t>(c)].op;
                if (cop == Op::kAdd) ok = false;
                if (cop != Op::kConv2d && cop != Op::kDense) frontier.push_back(c + 1);
            }
        }
        out[static_cast<size_t>(i)] = ok;
    }
    return out;
}

arch::Model WithWidths(const arch::Model& model, const std::vector<int>& widths) {
    arch::Model m = model;
    for (size_t i = 0; i < m.layers.size() && i < widths.size(); ++i) {
        if (widths[i] <= 0) continue;
        if (m.layers[i].op == Op::kConv2d) m.layers[i].filters = widths[i];
        if (m.layers[i].op == Op::kDense) m.layers[i].units = widths[i];
    }
    return m;
}

Network Shrink(const NetworkImpl& net, const std::vector<std::vector<int64_t>>& keep) {
    const arch::Graph& g = net.graph();
    const int n = g.num_layers();
    const std::vector<bool> shrinkable = ShrinkableLayers(g);
    std::vector<int> widths(static_cast<size_t>(n), 0);
    for (int i = 0; i < n && i < static_cast<int>(keep.size()); ++i) {
        const auto& k = keep[static_cast<size_t>(i)];
        if (k.empty()) continue;
        if (!shrinkable[static_cast<size_t>(i)]) {
            throw InvalidArgument(g.LayerName(i) + ": its channels cannot be removed", "keep");
        }
        for (size_t j = 0; j < k.size(); ++j) {
            if (k[j] < 0 || k[j] >= net.out_channels(i) || (j > 0 && k[j] <= k[j - 1])) {
                throw InvalidArgument(g.LayerName(i) + ": bad channel list", "keep");
            }
        }
        widths[static_cast<size_t>(i)] = static_cast<int>(k.size());
    }
    Network out(WithWidths(g.model, widths), net.has_batch_norm());
    torch::NoGradGuard no_grad;
    // Kept channels of every tensor, as indices into the original tensor's channels.
    std::vector<std::vector<int64_t>> map(static_cast<size_t>(n) + 1);
    map[0] = All(g.tensors[0].c);
    for (int i = 0; i < n; ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        const int in_t = g.inputs[static_cast<size_t>(i)][0];
        const auto& in_map = map[static_cast<size_t>(in_t)];
        auto& out_map = map[static_cast<size_t>(i) + 1];
        const LayerState& src = net.layer(i);
        LayerState& dst = out->layer(i);
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDense: {
                const auto& k = i < static_cast<int>(keep.size()) ? keep[static_cast<size_t>(i)]
                                                                  : std::vector<int64_t>{};
                out_map = k.empty() ? All(net.out_channels(i)) : k;
                const std::vector<int64_t> cols =
                    l.op == Op::kDense ? Flat(g.tensors[static_cast<size_t>(in_t)], in_map)
                                       : in_map;
                auto slice = [&](const torch::Tensor& t) {
                    return t.index_select(0, Index(out_map).to(t.device()))
                        .index_select(1, Index(cols).to(t.device()));
                };
                dst.weight.copy_(slice(src.weight));
                if (src.mask.defined()) out->SetMask(i, slice(src.mask));
                break;
            }
            case Op::kDepthwiseConv2d: {
                out_map.clear();
                for (int64_t c : in_map) {
                    for (int m = 0; m < l.depth_multiplier; ++m) {
                        out_map.push_back(c * l.depth_multiplier + m);
                    }
                }
                const torch::Tensor idx = Index(out_map).to(src.weight.device());
                dst.weight.copy_(src.weight.index_select(0, idx));
                if (src.mask.defined()) out->SetMask(i, src.mask.index_select(0, idx));
                break;
            }
            case Op::kFlatten:
                out_map = Flat(g.tensors[static_cast<size_t>(in_t)], in_map);
                break;
            default:
                out_map = in_map;
                break;
        }
        if (src.weight.defined()) {
            const torch::Tensor idx = Index(out_map).to(src.weight.device());
            dst.bias.copy_(src.bias.index_select(0, idx));
            if (src.has_bn) {
                dst.bn_weight.copy_(src.bn_weight.index_select(0, idx));
                dst.bn_bias.copy_(src.bn_bias.index_select(0, idx));
                dst.bn_mean.copy_(src.bn_mean.index_select(0, idx));
                dst.bn_var.copy_(src.bn_var.index_select(0, idx));
            }
        }
    }
    return out;
}

}  // namespace hilnas::trainer
