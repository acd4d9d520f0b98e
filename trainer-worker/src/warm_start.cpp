#include "warm_start.h"

#include <algorithm>
#include <sstream>

#include "hilnas/common/errors.h"

namespace hilnas::trainer {

namespace {

using arch::MorphismKind;
using arch::Op;

torch::Tensor Index(const std::vector<int>& map, int64_t n) {
    std::vector<int64_t> v;
    if (map.empty()) {
        for (int64_t i = 0; i < n; ++i) v.push_back(i);
    } else {
        v.assign(map.begin(), map.end());
    }
    return torch::tensor(v, torch::kLong);
}

bool FeedsAdd(const arch::Graph& g, int layer) {
    for (int c : g.consumers[static_cast<size_t>(layer) + 1]) {
        if (g.model.layers[static_cast<size_t>(c)].op == Op::kAdd) return true;
    }
    return false;
}

}  // namespace

std::string WriteCheckpoint(const NetworkImpl& net, const arch::Model* candidate) {
    torch::serialize::OutputArchive archive;
    auto write_json = [&](const char* key, const std::string& json) {
        archive.write(key, torch::from_blob(const_cast<char*>(json.data()),
                                            {static_cast<int64_t>(json.size())}, torch::kUInt8)
                               .clone());
    };
    write_json("model_json", arch::ModelToJson(net.model()));
    if (candidate != nullptr) write_json("candidate_json", arch::ModelToJson(*candidate));
    for (const auto& p : net.named_parameters()) archive.write(p.key(), p.value().to(torch::kCPU));
    for (const auto& b : net.named_buffers())
        archive.write(b.key(), b.value().to(torch::kCPU), true);
    std::ostringstream out;
    archive.save_to(out);
    return out.str();
}

Checkpoint ReadCheckpoint(const std::string& bytes) {
    Checkpoint c;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(bytes.data(), bytes.size());
        auto read_json = [&](const char* key) {
            torch::Tensor json;
            archive.read(key, json);
            return arch::ModelFromJson(std::string(reinterpret_cast<const char*>(json.data_ptr()),
                                                   static_cast<size_t>(json.numel())));
        };
        c.model = read_json("model_json");
        const std::vector<std::string> keys = archive.keys();
        if (std::find(keys.begin(), keys.end(), "candidate_json") != keys.end()) {
            c.candidate = read_json("candidate_json");
        }
        for (const auto& key : keys) {
            if (key == "model_json" || key == "candidate_json") continue;
            torch::Tensor t;
            if (!archive.try_read(key, t)) archive.read(key, t, true);
            c.tensors[key] = t;
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw InvalidArgument(std::string("not a trainer checkpoint: ") + e.what(), "checkpoint");
    }
    return c;
}

void WarmStart(NetworkImpl& child, const Checkpoint& parent,
               const std::vector<arch::LayerMapping>& mapping) {
    torch::NoGradGuard no_grad;
    const arch::Graph& g = child.graph();
    const arch::Graph pg = arch::Analyze(parent.model);
    // The candidate the parent was trained from, layer for layer (DNAS and
    // channel pruning change widths, never layers); without it the maps index
    // the final model itself.
    const bool has_candidate = !parent.candidate.layers.empty() &&
                               parent.candidate.layers.size() == parent.model.layers.size();
    const arch::Graph cg = arch::Analyze(has_candidate ? parent.candidate : parent.model);
    for (size_t m = 0; m < mapping.size(); ++m) {
        const arch::LayerMapping& map = mapping[m];
        const std::string field = "morphism.layers[" + std::to_string(m) + "]";
        if (map.child_layer < 0 || map.child_layer >= g.num_layers()) {
            throw InvalidArgument("child_layer out of range", field);
        }
        LayerState& s = child.layer(map.child_layer);
        if (!s.weight.defined() || map.kind == MorphismKind::kFresh) continue;
        const arch::Layer& l = g.model.layers[static_cast<size_t>(map.child_layer)];
        if (map.kind == MorphismKind::kIdentity) {
            if (FeedsAdd(g, map.child_layer)) {
                // The residual branch starts at zero: the block adds nothing.
                if (s.has_bn) {
                    s.bn_weight.zero_();
                    s.bn_bias.zero_();
                } else {
                    s.weight.zero_();
                    s.bias.zero_();
                }
                continue;
            }
            const int64_t out = s.weight.size(0), in = s.weight.size(1);
            s.weight.zero_();
            s.bias.zero_();
            if (l.op == Op::kDense) {
                if (out != in) throw InvalidArgument("identity dense layer is not square", field);
                s.weight.copy_(torch::eye(out));
            } else {
                const int64_t cy = l.kernel[0] / 2, cx = l.kernel[1] / 2;
                if (l.op == Op::kConv2d && out != in) {
                    throw InvalidArgument("identity convolution changes the channel count", field);
                }
                for (int64_t c = 0; c < out; ++c)
                    s.weight[c][l.op == Op::kConv2d ? c : 0][cy][cx] = 1.0;
            }
            if (s.has_bn) {
                s.bn_weight.fill_(1);
                s.bn_bias.zero_();
                s.bn_mean.zero_();
                s.bn_var.fill_(1);
            }
            continue;
        }
        if (map.parent_layer < 0 || map.parent_layer >= pg.num_layers()) {
            throw InvalidArgument("parent_layer out of range", field);
        }
        const std::string p = "l" + std::to_string(map.parent_layer) + "_";
        auto get = [&](const std::string& name) {
            const auto it = parent.tensors.find(p + name);
            return it == parent.tensors.end() ? torch::Tensor() : it->second;
        };
        const torch::Tensor pw = get("weight");
        if (!pw.defined() || pw.dim() != s.weight.dim()) {
            throw InvalidArgument(
                "parent layer " + std::to_string(map.parent_layer) + " has no matching weights",
                field);
        }
        torch::Tensor rows = Index(map.out_channel_map, s.weight.size(0));
        const bool depthwise = l.op == Op::kDepthwiseConv2d;
        torch::Tensor cols = Index(map.in_channel_map, depthwise ? 1 : s.weight.size(1));
        // The widths the maps index (the candidate's) and those the parent
        // kept; a dense layer after a flatten sees positions x channels.
        const int pl = map.parent_layer;
        const int64_t out_indexed = cg.output(pl).c;
        int64_t positions = 1, in_indexed = depthwise ? 1 : cg.input_of(pl).c;
        const int producer = pg.inputs[static_cast<size_t>(pl)][0] - 1;
        if (!depthwise && producer >= 0 &&
            pg.model.layers[static_cast<size_t>(producer)].op == Op::kFlatten) {
            const arch::Shape& x = cg.input_of(producer);
            positions = int64_t{x.h} * x.w;
            in_indexed = x.c;
        }
        if (rows.numel() != s.weight.size(0) || rows.max().item<int64_t>() >= out_indexed ||
            cols.numel() != s.weight.size(1) ||
            cols.max().item<int64_t>() >= positions * in_indexed || pw.size(0) > out_indexed ||
            pw.size(1) > positions * in_indexed || pw.size(1) % positions != 0) {
            throw InvalidArgument("channel maps do not fit the layers' shapes", field);
        }
        const int64_t in_kept = pw.size(1) / positions;
        if (pw.size(0) < out_indexed) rows = rows.remainder(pw.size(0));
        const bool in_folded = in_kept < in_indexed;
        if (in_folded) {
            cols = torch::div(cols, in_indexed, "floor") * in_kept +
                   cols.remainder(in_indexed).remainder(in_kept);
        }
        torch::Tensor w = pw.index_select(0, rows).index_select(1, cols);
        if (!depthwise && (in_folded || !map.in_channel_map.empty())) {
            // Net2Net: duplicated input channels split the parent's weight.
            const torch::Tensor counts =
                torch::bincount(cols, {}, pw.size(1)).index_select(0, cols).to(w.dtype());
            std::vector<int64_t> view(static_cast<size_t>(w.dim()), 1);
            view[1] = -1;
            w = w / counts.view(view);
        }
        if (w.dim() == 4 && (w.size(2) != s.weight.size(2) || w.size(3) != s.weight.size(3))) {
            const int64_t dy = (s.weight.size(2) - w.size(2)) / 2,
                          dx = (s.weight.size(3) - w.size(3)) / 2;
            if (dy < 0 || dx < 0)
                throw InvalidArgument("child kernel is smaller than its parent's", field);
            s.weight.zero_();
            s.weight.narrow(2, dy, w.size(2)).narrow(3, dx, w.size(3)).copy_(w);
        } else {
            s.weight.copy_(w);
        }
        s.bias.copy_(get("bias").index_select(0, rows));
        if (s.has_bn && get("bn_weight").defined()) {
            s.bn_weight.copy_(get("bn_weight").index_select(0, rows));
            s.bn_bias.copy_(get("bn_bias").index_select(0, rows));
            s.bn_mean.copy_(get("bn_mean").index_select(0, rows));
            s.bn_var.copy_(get("bn_var").index_select(0, rows));
        }
    }
}

}  // namespace hilnas::trainer
