// ValidateArtifact and RandomArtifact: what the runtime may rely on, and a
// generator of artifacts that satisfy it.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas_nn/nn_quant.h"

namespace hilnas::artifact {

namespace {

using arch::Activation;
using arch::Graph;
using arch::Op;

int64_t OutChannels(const Graph& g, int i) {
    const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
    switch (l.op) {
        case Op::kConv2d:
            return l.filters;
        case Op::kDepthwiseConv2d:
            return int64_t{g.input_of(i).c} * l.depth_multiplier;
        case Op::kDense:
            return l.units;
        default:
            return 0;
    }
}

// The weights of one output channel: its dot product's length.
int64_t RowLength(const Graph& g, int i) {
    const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
    const arch::Shape& x = g.input_of(i);
    switch (l.op) {
        case Op::kConv2d:
            return int64_t{l.kernel[0]} * l.kernel[1] * x.c;
        case Op::kDepthwiseConv2d:
            return int64_t{l.kernel[0]} * l.kernel[1];
        case Op::kDense:
            return x.elements();
        default:
            return 0;
    }
}

// The non-zero values of a layer's weights as the artifact stores them (4-bit:
// nibbles; an odd row's padding nibble is 0).
int64_t NonzeroWeights(const arch::Layer& l, const v1::QuantizedLayer& q) {
    int64_t nonzero = 0;
    for (const char byte : q.weights()) {
        const auto b = static_cast<uint8_t>(byte);
        nonzero += l.bits() == 4 ? (b & 0x0F ? 1 : 0) + (b & 0xF0 ? 1 : 0) : (b ? 1 : 0);
    }
    return nonzero;
}

// The cost model's layout, so that its weight bytes are the artifact's.
int64_t WeightBytes(const Graph& g, int i) { return arch::WeightLayoutOf(g, i).bytes(); }

// The int8 clamp TFLite derives from a fused activation and the output quantisation.
std::pair<int, int> Clamp(Activation a, const v1::TensorQuant& q) {
    switch (a) {
        case Activation::kNone:
            return {-128, 127};
        case Activation::kRelu:
            return {std::max(-128, q.zero_point()), 127};
        case Activation::kRelu6: {
            const auto six = static_cast<int64_t>(std::lround(6.0 / q.scale()));
            return {std::max(-128, q.zero_point()),
                    static_cast<int>(std::min<int64_t>(127, q.zero_point() + six))};
        }
    }
    return {-128, 127};
}

void CheckQuant(
    const v1::TensorQuant& q, const std::string& what,
    const std::function<InvalidArgument(const std::string&, const std::string&)>& fail) {
    if (!(q.scale() > 0) || !std::isfinite(q.scale())) throw fail("scale must be positive", what);
    if (q.zero_point() < -128 || q.zero_point() > 127) {
        throw fail("zero point " + std::to_string(q.zero_point()) + " is outside [-128, 127]",
                   what);
    }
}

bool SameQuant(const v1::TensorQuant& a, const v1::TensorQuant& b) {
    return a.scale() == b.scale() && a.zero_point() == b.zero_point();
}

}  // namespace

arch::Graph ValidateArtifact(const v1::Int8Model& m) {
    if (m.format_version() != kArtifactFormatVersion) {
        throw InvalidArgument(
            "format version " + std::to_string(m.format_version()) + " is not supported",
            "format_version");
    }
    Graph g = arch::Analyze(arch::ModelFromProto(m.model()));
    const int n = g.num_layers();
    if (m.layers_size() != n) {
        throw InvalidArgument("has " + std::to_string(m.layers_size()) + " quantised layers for " +
                                  std::to_string(n) + " model layers",
                              "layers");
    }
    auto top = [](const std::string& what, const std::string& field) {
        return InvalidArgument(what, field);
    };
    CheckQuant(m.input(), "input", top);
    auto quant_of = [&](int tensor) -> const v1::TensorQuant& {
        return tensor == 0 ? m.input() : m.layers(tensor - 1).output();
    };
    for (int i = 0; i < n; ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        const v1::QuantizedLayer& q = m.layers(i);
        const std::string at = "layers[" + std::to_string(i) + "]";
        auto fail = [&](const std::string& what, const std::string& field) {
            return InvalidArgument(g.LayerName(i) + ": " + what, at + "." + field);
        };
        CheckQuant(q.output(), "output", fail);
        const v1::TensorQuant& in = quant_of(g.inputs[static_cast<size_t>(i)][0]);
        const auto [lo, hi] = Clamp(l.activation, q.output());
        if (q.activation_min() != lo || q.activation_max() != hi) {
            throw fail("activation clamp [" + std::to_string(q.activation_min()) + ", " +
                           std::to_string(q.activation_max()) + "] does not match " +
                           std::string(arch::ActivationName(l.activation)) + " at this output's " +
                           "quantisation ([" + std::to_string(lo) + ", " + std::to_string(hi) +
                           "])",
                       "activation_min");
        }
        const arch::Shape& x = g.input_of(i);
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDepthwiseConv2d:
            case Op::kDense: {
                const int64_t channels = OutChannels(g, i);
                if (static_cast<int64_t>(q.weights().size()) != WeightBytes(g, i)) {
                    throw fail("weights has " + std::to_string(q.weights().size()) +
                                   " bytes, expected " + std::to_string(WeightBytes(g, i)),
                               "weights");
                }
                for (const char* field : {"bias", "multiplier", "shift", "weight_scale"}) {
                    const int size = std::string(field) == "bias"         ? q.bias_size()
                                     : std::string(field) == "multiplier" ? q.multiplier_size()
                                     : std::string(field) == "shift"      ? q.shift_size()
                                                                          : q.weight_scale_size();
                    if (size != channels) {
                        throw fail(std::string(field) + " has " + std::to_string(size) +
                                       " values, expected one per output channel (" +
                                       std::to_string(channels) + ")",
                                   field);
                    }
                }
                for (int c = 0; c < channels; ++c) {
                    if (q.multiplier(c) < 0) throw fail("multipliers must be >= 0", "multiplier");
                    if (q.shift(c) < -31 || q.shift(c) > 30) {
                        throw fail("shifts must be in [-31, 30]", "shift");
                    }
                }
                if (RowLength(g, i) > NN_MAX_ACCUM_DEPTH) {
                    throw fail("a dot product of " + std::to_string(RowLength(g, i)) +
                                   " exceeds the runtime's " + std::to_string(NN_MAX_ACCUM_DEPTH),
                               "weights");
                }
                if (l.nonzero_weights && NonzeroWeights(l, q) != *l.nonzero_weights) {
                    throw fail("weights has " + std::to_string(NonzeroWeights(l, q)) +
                                   " non-zero values, the model says " +
                                   std::to_string(*l.nonzero_weights),
                               "weights");
                }
                break;
            }
            case Op::kMaxPool:
            case Op::kAvgPool:
            case Op::kFlatten:
                if (!SameQuant(q.output(), in)) {
                    throw fail(std::string(arch::OpName(l.op)) +
                                   " keeps its input's quantisation (TFLite); the output's differs",
                               "output");
                }
                break;
            case Op::kGlobalAvgPool:
                if (int64_t{x.h} * x.w > (int64_t{1} << 23)) {
                    throw fail("pools more than 2^23 positions", "pool_multiplier");
                }
                if (q.pool_multiplier() < 0 || q.pool_shift() < -31 || q.pool_shift() > 30) {
                    throw fail("requantisation out of range", "pool_multiplier");
                }
                break;
            case Op::kAdd: {
                const v1::AddQuant& a = q.add();
                if (a.left_shift() < 0 || a.left_shift() > 22) {
                    throw fail("left_shift must be in [0, 22]", "add.left_shift");
                }
                for (int s : {a.input1_shift(), a.input2_shift(), a.output_shift()}) {
                    if (s < -31 || s > 30) throw fail("shifts must be in [-31, 30]", "add");
                }
                for (int mult :
                     {a.input1_multiplier(), a.input2_multiplier(), a.output_multiplier()}) {
                    if (mult < 0) throw fail("multipliers must be >= 0", "add");
                }
                break;
            }
        }
    }
    return g;
}

v1::Int8Model RandomArtifact(const arch::Model& model, uint64_t seed) {
    const Graph g = arch::Analyze(model);
    std::mt19937_64 rng(seed);
    auto uniform = [&](double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    auto integer = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    auto requant = [](double real, int32_t* mult, int32_t* shift) {
        if (nn_quantize_multiplier(real, mult, shift) != NN_OK) {
            throw Internal("cannot quantise multiplier " + std::to_string(real));
        }
    };

    v1::Int8Model m;
    m.set_format_version(kArtifactFormatVersion);
    m.set_producer("hilnas RandomArtifact seed " + std::to_string(seed));
    arch::ModelToProto(model, m.mutable_model());
    m.mutable_input()->set_scale(uniform(0.01, 0.05));
    m.mutable_input()->set_zero_point(integer(-20, 20));
    auto quant_of = [&](int tensor) -> const v1::TensorQuant& {
        return tensor == 0 ? m.input() : m.layers(tensor - 1).output();
    };
    for (int i = 0; i < g.num_layers(); ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        v1::QuantizedLayer* q = m.add_layers();
        const v1::TensorQuant in = quant_of(g.inputs[static_cast<size_t>(i)][0]);
        v1::TensorQuant* out = q->mutable_output();
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDepthwiseConv2d:
            case Op::kDense: {
                const int64_t channels = OutChannels(g, i), row = RowLength(g, i);
                const int wmax = l.bits() == 4 ? 7 : 127;
                std::vector<int8_t> values(static_cast<size_t>(channels * row));
                for (auto& v : values) v = static_cast<int8_t>(integer(-wmax - 1, wmax));
                if (l.nonzero_weights) {
                    // Exactly that many non-zero, at random places.
                    std::vector<size_t> order(values.size());
                    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
                    std::shuffle(order.begin(), order.end(), rng);
                    for (size_t k = 0; k < order.size(); ++k) {
                        int8_t& v = values[order[k]];
                        if (static_cast<int64_t>(k) >= *l.nonzero_weights) {
                            v = 0;
                        } else if (v == 0) {
                            v = 1;
                        }
                    }
                }
                if (l.op == Op::kDepthwiseConv2d) {
                    // Stored [1, KH, KW, C]: channel-innermost, one row per tap.
                    std::vector<int8_t> hwc(values.size());
                    for (int64_t c = 0; c < channels; ++c) {
                        for (int64_t t = 0; t < row; ++t) {
                            hwc[static_cast<size_t>(t * channels + c)] =
                                values[static_cast<size_t>(c * row + t)];
                        }
                    }
                    values = std::move(hwc);
                }
                if (l.bits() == 4) {
                    const arch::WeightLayout layout = arch::WeightLayoutOf(g, i);
                    std::string packed(static_cast<size_t>(layout.bytes()), '\0');
                    if (nn_pack_s4(values.data(), static_cast<int32_t>(layout.rows),
                                   static_cast<int32_t>(layout.row_length),
                                   reinterpret_cast<int8_t*>(packed.data())) != NN_OK) {
                        throw Internal("nn_pack_s4 failed");
                    }
                    q->set_weights(packed);
                } else {
                    q->set_weights(std::string(values.begin(), values.end()));
                }
                // Scale the output so a typical accumulator lands well inside
                // int8: inputs spread about 40 units, weights 0.58 * wmax, over
                // `row` terms; aim for outputs spread about 25 units.
                const double base = 0.01;
                const double spread = 40.0 * wmax * 0.58 * std::sqrt(static_cast<double>(row));
                out->set_scale(in.scale() * base * spread / 25.0);
                out->set_zero_point(integer(-10, 10));
                for (int64_t c = 0; c < channels; ++c) {
                    const double ws = base * uniform(0.5, 1.5);
                    q->add_weight_scale(ws);
                    q->add_bias(integer(-2000, 2000));
                    int32_t mult = 0, shift = 0;
                    requant(in.scale() * ws / out->scale(), &mult, &shift);
                    q->add_multiplier(mult);
                    q->add_shift(shift);
                }
                break;
            }
            case Op::kMaxPool:
            case Op::kAvgPool:
            case Op::kFlatten:
                *out = in;
                break;
            case Op::kGlobalAvgPool: {
                out->set_scale(in.scale() * uniform(0.5, 1.0));
                out->set_zero_point(integer(-10, 10));
                int32_t mult = 0, shift = 0;
                requant(in.scale() / out->scale(), &mult, &shift);
                q->set_pool_multiplier(mult);
                q->set_pool_shift(shift);
                break;
            }
            case Op::kAdd: {
                const v1::TensorQuant in2 = quant_of(g.inputs[static_cast<size_t>(i)][1]);
                const double twice_max = 2 * std::max(in.scale(), in2.scale());
                out->set_scale(twice_max);
                out->set_zero_point(integer(-10, 10));
                v1::AddQuant* a = q->mutable_add();
                a->set_left_shift(20);
                int32_t mult = 0, shift = 0;
                requant(in.scale() / twice_max, &mult, &shift);
                a->set_input1_multiplier(mult);
                a->set_input1_shift(shift);
                requant(in2.scale() / twice_max, &mult, &shift);
                a->set_input2_multiplier(mult);
                a->set_input2_shift(shift);
                requant(twice_max / ((1 << 20) * out->scale()), &mult, &shift);
                a->set_output_multiplier(mult);
                a->set_output_shift(shift);
                break;
            }
        }
        const auto [lo, hi] = Clamp(l.activation, *out);
        q->set_activation_min(lo);
        q->set_activation_max(hi);
    }
    m.set_sha256(ArtifactDigest(m));
    return m;
}

int64_t NonzeroWeightBytes(const v1::Int8Model& m) {
    const Graph g = arch::Analyze(arch::ModelFromProto(m.model()));
    int64_t total = 0;
    for (int i = 0; i < g.num_layers() && i < m.layers_size(); ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        if (!l.has_weights()) continue;
        const v1::QuantizedLayer& q = m.layers(i);
        const int64_t nonzero = NonzeroWeights(l, q);
        total += (l.bits() == 4 ? (nonzero + 1) / 2 : nonzero) + int64_t{12} * q.bias_size();
    }
    return total;
}

}  // namespace hilnas::artifact
