#include "hilnas/arch/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "hilnas/common/errors.h"
#include "hilnas/v1/model.pb.h"

namespace hilnas::arch {

namespace {

using nlohmann::json;

constexpr int kMaxKernel = 63;
constexpr int64_t kMaxTensorElements = (int64_t{1} << 31) - 1;
constexpr int64_t kMaxFlatElements = int64_t{1} << 24;
// The runtime's longest dot product (NN_MAX_ACCUM_DEPTH in firmware/runtime).
constexpr int64_t kMaxDotProduct = 65535;

struct OpInfo {
    Op op;
    std::string_view name;
    v1::Op proto;
};
constexpr OpInfo kOps[] = {
    {Op::kConv2d, "conv2d", v1::OP_CONV2D},
    {Op::kDepthwiseConv2d, "depthwise_conv2d", v1::OP_DEPTHWISE_CONV2D},
    {Op::kMaxPool, "max_pool", v1::OP_MAX_POOL},
    {Op::kAvgPool, "avg_pool", v1::OP_AVG_POOL},
    {Op::kGlobalAvgPool, "global_avg_pool", v1::OP_GLOBAL_AVG_POOL},
    {Op::kFlatten, "flatten", v1::OP_FLATTEN},
    {Op::kDense, "dense", v1::OP_DENSE},
    {Op::kAdd, "add", v1::OP_ADD},
};

bool IsPool(Op op) { return op == Op::kMaxPool || op == Op::kAvgPool; }
bool HasActivation(Op op) {
    return op == Op::kConv2d || op == Op::kDepthwiseConv2d || op == Op::kDense || op == Op::kAdd;
}

// The keys each op accepts in JSON, beyond id/op/inputs.
std::set<std::string> KeysFor(Op op) {
    switch (op) {
        case Op::kConv2d:
            return {"filters",    "kernel",      "stride",   "padding",
                    "activation", "weight_bits", "sparsity", "nonzero_weights"};
        case Op::kDepthwiseConv2d:
            return {"kernel",     "stride",      "padding",  "depth_multiplier",
                    "activation", "weight_bits", "sparsity", "nonzero_weights"};
        case Op::kMaxPool:
        case Op::kAvgPool:
            return {"pool", "stride", "padding"};
        case Op::kGlobalAvgPool:
        case Op::kFlatten:
            return {};
        case Op::kDense:
            return {"units", "activation", "weight_bits", "sparsity", "nonzero_weights"};
        case Op::kAdd:
            return {"activation"};
    }
    return {};
}

std::string Where(size_t index) { return "layers[" + std::to_string(index) + "]"; }

int GetInt(const json& j, const std::string& field) {
    if (!j.is_number_integer()) throw InvalidArgument("must be an integer", field);
    const int64_t v = j.get<int64_t>();
    if (v < INT32_MIN || v > INT32_MAX) throw InvalidArgument("out of range", field);
    return static_cast<int>(v);
}

std::array<int, 2> GetPair(const json& j, const std::string& field) {
    if (j.is_number_integer()) {  // "kernel": 3 means 3x3
        const int v = GetInt(j, field);
        return {v, v};
    }
    if (!j.is_array() || j.size() != 2) {
        throw InvalidArgument("must be [height, width] or one integer", field);
    }
    return {GetInt(j[0], field + "[0]"), GetInt(j[1], field + "[1]")};
}

std::string GetString(const json& j, const std::string& field) {
    if (!j.is_string()) throw InvalidArgument("must be a string", field);
    return j.get<std::string>();
}

template <typename Enum, size_t N>
Enum GetEnum(const json& j, const std::string& field,
             const std::array<std::pair<std::string_view, Enum>, N>& names) {
    const std::string s = GetString(j, field);
    std::string choices;
    for (const auto& [name, value] : names) {
        if (s == name) return value;
        choices += (choices.empty() ? "" : ", ") + std::string(name);
    }
    throw InvalidArgument("unknown value '" + s + "' (expected one of " + choices + ")", field);
}

constexpr std::array<std::pair<std::string_view, Activation>, 3> kActivations{
    {{"none", Activation::kNone}, {"relu", Activation::kRelu}, {"relu6", Activation::kRelu6}}};
constexpr std::array<std::pair<std::string_view, Padding>, 2> kPaddings{
    {{"same", Padding::kSame}, {"valid", Padding::kValid}}};

json PairJson(const std::array<int, 2>& p) { return json::array({p[0], p[1]}); }

std::string Dims(const Shape& s) {
    return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

}  // namespace

std::string_view OpName(Op op) {
    for (const auto& info : kOps) {
        if (info.op == op) return info.name;
    }
    return "?";
}
std::string_view ActivationName(Activation a) {
    for (const auto& [name, value] : kActivations) {
        if (value == a) return name;
    }
    return "?";
}
std::string_view PaddingName(Padding p) { return p == Padding::kSame ? "same" : "valid"; }

int SamePadBefore(int in, int kernel, int stride) {
    const int out = (in + stride - 1) / stride;
    const int total = std::max((out - 1) * stride + kernel - in, 0);
    return total / 2;
}

int OutputSize(int in, int kernel, int stride, Padding padding) {
    if (padding == Padding::kSame) return (in + stride - 1) / stride;
    const int span = in - kernel + 1;
    return span <= 0 ? 0 : (span + stride - 1) / stride;
}

std::string Graph::LayerName(int layer) const {
    const auto& id = model.layers[static_cast<size_t>(layer)].id;
    return "layer " + std::to_string(layer) + (id.empty() ? "" : " (" + id + ")");
}

// ---------------------------------------------------------------- JSON

Model ModelFromJson(std::string_view text) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
        throw InvalidArgument(std::string("not valid JSON: ") + e.what(), "model");
    }
    if (!root.is_object()) throw InvalidArgument("must be a JSON object", "model");
    for (const auto& [key, value] : root.items()) {
        if (key != "name" && key != "input" && key != "layers") {
            throw InvalidArgument("unknown key '" + key + "'", "model");
        }
    }
    Model model;
    if (root.contains("name")) model.name = GetString(root["name"], "name");
    if (!root.contains("input")) throw InvalidArgument("missing", "input");
    const json& input = root["input"];
    if (!input.is_object() || !input.contains("shape") || input.size() != 1) {
        throw InvalidArgument("must be {\"shape\": [H, W, C]}", "input");
    }
    const json& shape = input["shape"];
    if (!shape.is_array() || shape.size() != 3) {
        throw InvalidArgument("must be [H, W, C]", "input.shape");
    }
    model.input = {GetInt(shape[0], "input.shape[0]"), GetInt(shape[1], "input.shape[1]"),
                   GetInt(shape[2], "input.shape[2]")};
    if (!root.contains("layers") || !root["layers"].is_array()) {
        throw InvalidArgument("must be a list of layers", "layers");
    }
    size_t index = 0;
    for (const json& j : root["layers"]) {
        const std::string at = Where(index++);
        if (!j.is_object()) throw InvalidArgument("must be an object", at);
        if (!j.contains("op")) throw InvalidArgument("missing 'op'", at);
        const std::string op_name = GetString(j["op"], at + ".op");
        const OpInfo* info = nullptr;
        for (const auto& candidate : kOps) {
            if (candidate.name == op_name) info = &candidate;
        }
        if (info == nullptr) {
            throw InvalidArgument("unknown op '" + op_name +
                                      "' (expected conv2d, depthwise_conv2d, max_pool, avg_pool, "
                                      "global_avg_pool, flatten, dense or add)",
                                  at + ".op");
        }
        Layer layer;
        layer.op = info->op;
        const std::set<std::string> allowed = KeysFor(layer.op);
        for (const auto& [key, value] : j.items()) {
            if (key == "id" || key == "op" || key == "inputs" || allowed.count(key) != 0) continue;
            throw InvalidArgument("unknown key '" + key + "' for " + op_name, at);
        }
        if (j.contains("id")) layer.id = GetString(j["id"], at + ".id");
        if (j.contains("inputs")) {
            if (!j["inputs"].is_array())
                throw InvalidArgument("must be a list of ids", at + ".inputs");
            for (size_t k = 0; k < j["inputs"].size(); ++k) {
                layer.inputs.push_back(
                    GetString(j["inputs"][k], at + ".inputs[" + std::to_string(k) + "]"));
            }
        }
        if (j.contains("filters")) layer.filters = GetInt(j["filters"], at + ".filters");
        if (j.contains("kernel")) layer.kernel = GetPair(j["kernel"], at + ".kernel");
        if (j.contains("pool")) layer.pool = GetPair(j["pool"], at + ".pool");
        if (j.contains("stride")) {
            layer.stride = GetPair(j["stride"], at + ".stride");
        } else if (IsPool(layer.op)) {
            layer.stride = layer.pool;  // Keras: pools stride by their size by default
        }
        if (j.contains("padding"))
            layer.padding = GetEnum(j["padding"], at + ".padding", kPaddings);
        if (j.contains("depth_multiplier")) {
            layer.depth_multiplier = GetInt(j["depth_multiplier"], at + ".depth_multiplier");
        }
        if (j.contains("units")) layer.units = GetInt(j["units"], at + ".units");
        if (j.contains("activation")) {
            layer.activation = GetEnum(j["activation"], at + ".activation", kActivations);
        }
        if (j.contains("weight_bits"))
            layer.weight_bits = GetInt(j["weight_bits"], at + ".weight_bits");
        if (j.contains("sparsity")) {
            if (!j["sparsity"].is_number())
                throw InvalidArgument("must be a number", at + ".sparsity");
            layer.sparsity = j["sparsity"].get<double>();
        }
        if (j.contains("nonzero_weights")) {
            if (!j["nonzero_weights"].is_number_integer())
                throw InvalidArgument("must be an integer", at + ".nonzero_weights");
            layer.nonzero_weights = j["nonzero_weights"].get<int64_t>();
        }
        model.layers.push_back(std::move(layer));
    }
    return model;
}

std::string ModelToJson(const Model& model, bool pretty) {
    json root = json::object();
    root["name"] = model.name;
    root["input"] = {{"shape", json::array({model.input.h, model.input.w, model.input.c})}};
    json layers = json::array();
    for (const Layer& l : model.layers) {
        json j = json::object();
        if (!l.id.empty()) j["id"] = l.id;
        j["op"] = std::string(OpName(l.op));
        if (!l.inputs.empty()) j["inputs"] = l.inputs;
        switch (l.op) {
            case Op::kConv2d:
                j["filters"] = l.filters;
                [[fallthrough]];
            case Op::kDepthwiseConv2d:
                j["kernel"] = PairJson(l.kernel);
                j["stride"] = PairJson(l.stride);
                j["padding"] = std::string(PaddingName(l.padding));
                if (l.op == Op::kDepthwiseConv2d) j["depth_multiplier"] = l.depth_multiplier;
                break;
            case Op::kMaxPool:
            case Op::kAvgPool:
                j["pool"] = PairJson(l.pool);
                j["stride"] = PairJson(l.stride);
                j["padding"] = std::string(PaddingName(l.padding));
                break;
            case Op::kDense:
                j["units"] = l.units;
                break;
            default:
                break;
        }
        if (HasActivation(l.op)) j["activation"] = std::string(ActivationName(l.activation));
        if (l.weight_bits) j["weight_bits"] = *l.weight_bits;
        if (l.sparsity) j["sparsity"] = *l.sparsity;
        if (l.nonzero_weights) j["nonzero_weights"] = *l.nonzero_weights;
        layers.push_back(std::move(j));
    }
    root["layers"] = std::move(layers);
    return root.dump(pretty ? 2 : -1);
}

// ---------------------------------------------------------------- protobuf

void ModelToProto(const Model& model, v1::Model* out) {
    out->Clear();
    out->set_name(model.name);
    out->mutable_input()->add_shape(model.input.h);
    out->mutable_input()->add_shape(model.input.w);
    out->mutable_input()->add_shape(model.input.c);
    for (const Layer& l : model.layers) {
        v1::Layer* p = out->add_layers();
        p->set_id(l.id);
        for (const auto& info : kOps) {
            if (info.op == l.op) p->set_op(info.proto);
        }
        for (const auto& in : l.inputs) p->add_inputs(in);
        p->set_filters(l.filters);
        for (int v : l.kernel) p->add_kernel(v);
        for (int v : l.stride) p->add_stride(v);
        p->set_padding(l.padding == Padding::kSame ? v1::PADDING_SAME : v1::PADDING_VALID);
        p->set_depth_multiplier(l.depth_multiplier);
        for (int v : l.pool) p->add_pool(v);
        p->set_units(l.units);
        p->set_activation(l.activation == Activation::kRelu    ? v1::ACTIVATION_RELU
                          : l.activation == Activation::kRelu6 ? v1::ACTIVATION_RELU6
                                                               : v1::ACTIVATION_NONE);
        if (l.weight_bits) p->set_weight_bits(*l.weight_bits);
        if (l.sparsity) p->set_sparsity(*l.sparsity);
        if (l.nonzero_weights) p->set_nonzero_weights(*l.nonzero_weights);
    }
}

Model ModelFromProto(const v1::Model& proto) {
    Model model;
    model.name = proto.name();
    if (proto.input().shape_size() != 3) {
        throw InvalidArgument("must be [H, W, C]", "input.shape");
    }
    model.input = {proto.input().shape(0), proto.input().shape(1), proto.input().shape(2)};
    auto pair = [](const google::protobuf::RepeatedField<int32_t>& f, const std::string& field,
                   std::array<int, 2> fallback) -> std::array<int, 2> {
        if (f.empty()) return fallback;
        if (f.size() != 2) throw InvalidArgument("must be [height, width]", field);
        return {f[0], f[1]};
    };
    for (int i = 0; i < proto.layers_size(); ++i) {
        const v1::Layer& p = proto.layers(i);
        const std::string at = Where(static_cast<size_t>(i));
        Layer l;
        l.id = p.id();
        const OpInfo* info = nullptr;
        for (const auto& candidate : kOps) {
            if (candidate.proto == p.op()) info = &candidate;
        }
        if (info == nullptr) throw InvalidArgument("op is unspecified", at + ".op");
        l.op = info->op;
        l.inputs.assign(p.inputs().begin(), p.inputs().end());
        l.filters = p.filters();
        l.kernel = pair(p.kernel(), at + ".kernel", {0, 0});
        l.pool = pair(p.pool(), at + ".pool", {0, 0});
        l.stride =
            pair(p.stride(), at + ".stride", IsPool(l.op) ? l.pool : std::array<int, 2>{1, 1});
        l.padding = p.padding() == v1::PADDING_SAME ? Padding::kSame : Padding::kValid;
        l.depth_multiplier = p.depth_multiplier();
        l.units = p.units();
        l.activation = p.activation() == v1::ACTIVATION_RELU    ? Activation::kRelu
                       : p.activation() == v1::ACTIVATION_RELU6 ? Activation::kRelu6
                                                                : Activation::kNone;
        if (p.has_weight_bits()) l.weight_bits = p.weight_bits();
        if (p.has_sparsity()) l.sparsity = p.sparsity();
        if (p.has_nonzero_weights()) l.nonzero_weights = p.nonzero_weights();
        model.layers.push_back(std::move(l));
    }
    return model;
}

// ---------------------------------------------------------------- validation

Graph Analyze(const Model& model) {
    Graph g;
    g.model = model;
    const Shape& in = model.input;
    if (in.h < 1 || in.w < 1 || in.c < 1 || in.h > kMaxSpatial || in.w > kMaxSpatial ||
        in.c > kMaxChannels) {
        throw InvalidArgument("dimensions must be between 1 and 65535, got " + Dims(in),
                              "input.shape");
    }
    if (model.layers.empty()) throw InvalidArgument("a model needs at least one layer", "layers");
    const int n = static_cast<int>(model.layers.size());

    std::map<std::string, int> ids;
    for (int i = 0; i < n; ++i) {
        const std::string& id = model.layers[static_cast<size_t>(i)].id;
        if (id.empty()) continue;
        const std::string at = Where(static_cast<size_t>(i)) + ".id";
        if (id == "prev" || id == "input") throw InvalidArgument("'" + id + "' is reserved", at);
        if (!ids.emplace(id, i).second) {
            throw InvalidArgument(
                "duplicate id '" + id + "' (also layer " + std::to_string(ids[id]) + ")", at);
        }
    }

    g.tensors.push_back(in);
    g.consumers.assign(static_cast<size_t>(n) + 1, {});
    g.inputs.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        const Layer& l = model.layers[static_cast<size_t>(i)];
        const std::string at = Where(static_cast<size_t>(i));
        auto fail = [&](const std::string& what, const std::string& field) -> InvalidArgument {
            return InvalidArgument(g.LayerName(i) + ": " + what,
                                   at + (field.empty() ? "" : "." + field));
        };

        // Resolve inputs to tensor numbers.
        std::vector<int>& inputs = g.inputs[static_cast<size_t>(i)];
        if (l.inputs.empty()) inputs.push_back(i);
        for (const std::string& name : l.inputs) {
            if (name == "prev") {
                inputs.push_back(i);
            } else if (name == "input") {
                inputs.push_back(0);
            } else if (auto it = ids.find(name); it == ids.end()) {
                throw fail("input '" + name + "' names no layer (dangling input id)", "inputs");
            } else if (it->second >= i) {
                // A reference forwards: a cycle when the named layer depends on this one.
                const bool cycle = it->second == i;
                throw fail("input '" + name + "' is " +
                               (cycle ? "the layer itself (a cycle)"
                                      : "a later layer: layers must be listed in execution "
                                        "order, and a graph with a cycle has none"),
                           "inputs");
            } else {
                inputs.push_back(it->second + 1);
            }
        }
        const size_t arity = l.op == Op::kAdd ? 2 : 1;
        if (inputs.size() != arity) {
            throw fail(std::string(OpName(l.op)) + " takes " + std::to_string(arity) + " input" +
                           (arity == 1 ? "" : "s") + ", got " + std::to_string(inputs.size()),
                       "inputs");
        }
        for (int t : inputs) g.consumers[static_cast<size_t>(t)].push_back(i);

        // Attributes.
        if (l.weight_bits && *l.weight_bits != 8 && *l.weight_bits != 4) {
            throw fail("weight_bits must be 8 or 4, not " + std::to_string(*l.weight_bits),
                       "weight_bits");
        }
        if (l.sparsity && !(*l.sparsity >= 0.0 && *l.sparsity < 1.0)) {
            throw fail("sparsity must be in [0, 1)", "sparsity");
        }
        auto check_pair = [&](const std::array<int, 2>& p, const char* field, int max) {
            if (p[0] < 1 || p[1] < 1 || p[0] > max || p[1] > max) {
                throw fail(std::string(field) + " must be between 1 and " + std::to_string(max) +
                               ", got " + std::to_string(p[0]) + "x" + std::to_string(p[1]),
                           field);
            }
        };

        const Shape x = g.tensors[static_cast<size_t>(inputs[0])];
        Shape y;
        auto spatial = [&](const std::array<int, 2>& window, const char* field) {
            const int oh = OutputSize(x.h, window[0], l.stride[0], l.padding);
            const int ow = OutputSize(x.w, window[1], l.stride[1], l.padding);
            if (oh < 1 || ow < 1) {
                throw fail(std::string(field) + " " + std::to_string(window[0]) + "x" +
                               std::to_string(window[1]) + " larger than its " +
                               std::to_string(x.h) + "x" + std::to_string(x.w) + " input",
                           field);
            }
            return std::pair<int, int>(oh, ow);
        };
        switch (l.op) {
            case Op::kConv2d: {
                check_pair(l.kernel, "kernel", kMaxKernel);
                check_pair(l.stride, "stride", kMaxKernel);
                if (l.filters < 1 || l.filters > kMaxChannels) {
                    throw fail(
                        "filters must be between 1 and 65535, got " + std::to_string(l.filters),
                        "filters");
                }
                const auto [oh, ow] = spatial(l.kernel, "kernel");
                if (int64_t{l.kernel[0]} * l.kernel[1] * x.c > kMaxDotProduct) {
                    throw fail("kernel " + std::to_string(l.kernel[0]) + "x" +
                                   std::to_string(l.kernel[1]) + " over " + std::to_string(x.c) +
                                   " channels exceeds the runtime's 65535-term dot product",
                               "kernel");
                }
                y = {oh, ow, l.filters};
                break;
            }
            case Op::kDepthwiseConv2d: {
                check_pair(l.kernel, "kernel", kMaxKernel);
                check_pair(l.stride, "stride", kMaxKernel);
                if (l.depth_multiplier < 1 || int64_t{l.depth_multiplier} * x.c > kMaxChannels) {
                    throw fail(
                        "depth_multiplier must be at least 1 and give at most 65535 "
                        "channels, got " +
                            std::to_string(l.depth_multiplier),
                        "depth_multiplier");
                }
                const auto [oh, ow] = spatial(l.kernel, "kernel");
                y = {oh, ow, x.c * l.depth_multiplier};
                break;
            }
            case Op::kMaxPool:
            case Op::kAvgPool: {
                check_pair(l.pool, "pool", kMaxKernel);
                check_pair(l.stride, "stride", kMaxKernel);
                const auto [oh, ow] = spatial(l.pool, "pool");
                y = {oh, ow, x.c};
                break;
            }
            case Op::kGlobalAvgPool:
                y = {1, 1, x.c};
                break;
            case Op::kFlatten: {
                if (x.elements() > kMaxFlatElements) {
                    throw fail("flattens " + Dims(x) + " into more than 2^24 values", "");
                }
                y = {1, 1, static_cast<int>(x.elements())};
                break;
            }
            case Op::kDense:
                if (l.units < 1 || l.units > kMaxChannels) {
                    throw fail("units must be between 1 and 65535, got " + std::to_string(l.units),
                               "units");
                }
                if (x.h != 1 || x.w != 1) {
                    throw fail("dense needs a flat 1x1xN input, got " + Dims(x) +
                                   ": add flatten or global_avg_pool before it",
                               "inputs");
                }
                if (x.c > kMaxDotProduct) {
                    throw fail("dense over " + std::to_string(x.c) +
                                   " inputs exceeds the runtime's 65535-term dot product",
                               "units");
                }
                y = {1, 1, l.units};
                break;
            case Op::kAdd: {
                const Shape& x2 = g.tensors[static_cast<size_t>(inputs[1])];
                if (!(x == x2)) {
                    throw fail("inputs have different shapes " + Dims(x) + " and " + Dims(x2),
                               "inputs");
                }
                y = x;
                break;
            }
        }
        if (y.elements() > kMaxTensorElements) {
            throw fail("output " + Dims(y) + " is too large", "");
        }
        if (l.nonzero_weights) {
            if (!l.has_weights()) throw fail("a layer without weights", "nonzero_weights");
            // conv2d kh*kw*cin*filters, depthwise kh*kw*cout, dense in*units.
            const int64_t weights = (l.op == Op::kDense ? 1 : int64_t{l.kernel[0]} * l.kernel[1]) *
                                    (l.op == Op::kDepthwiseConv2d ? 1 : x.c) * y.c;
            if (*l.nonzero_weights < 0 || *l.nonzero_weights > weights) {
                throw fail("nonzero_weights must be between 0 and the layer's " +
                               std::to_string(weights) + " weights, got " +
                               std::to_string(*l.nonzero_weights),
                           "nonzero_weights");
            }
        }
        g.tensors.push_back(y);
    }

    for (int t = 0; t < n; ++t) {  // every tensor but the model's output is read
        if (!g.consumers[static_cast<size_t>(t)].empty()) continue;
        if (t == 0) throw InvalidArgument("the model input is never read", "layers");
        throw InvalidArgument(g.LayerName(t - 1) + ": its output is never used",
                              Where(static_cast<size_t>(t - 1)));
    }
    return g;
}

}  // namespace hilnas::arch
