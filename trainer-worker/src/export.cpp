#include "export.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas_nn/nn_quant.h"

namespace hilnas::trainer {

namespace {

using arch::Op;

void Requant(double real, int32_t* mult, int32_t* shift, const std::string& what) {
    if (nn_quantize_multiplier(real, mult, shift) != NN_OK) {
        throw FailedPrecondition(what + ": cannot represent the requantisation factor " +
                                 std::to_string(real));
    }
}

void SetQuant(v1::TensorQuant* out, const QuantParams& q) {
    out->set_scale(q.scale);
    out->set_zero_point(q.zero_point);
}

std::pair<int, int> Clamp(arch::Activation a, const QuantParams& q) {
    switch (a) {
        case arch::Activation::kNone:
            return {-128, 127};
        case arch::Activation::kRelu:
            return {std::max(-128, q.zero_point), 127};
        case arch::Activation::kRelu6: {
            const auto six = static_cast<int64_t>(std::lround(6.0 / q.scale));
            return {std::max(-128, q.zero_point),
                    static_cast<int>(std::min<int64_t>(127, q.zero_point + six))};
        }
    }
    return {-128, 127};
}

}  // namespace

v1::Int8Model ExportInt8(const NetworkImpl& net, const std::string& producer) {
    if (net.has_batch_norm()) throw FailedPrecondition("fold batch norm before export");
    torch::NoGradGuard no_grad;
    const arch::Graph& g = net.graph();
    v1::Int8Model m;
    m.set_format_version(artifact::kArtifactFormatVersion);
    m.set_producer(producer);
    arch::ModelToProto(WithSparsity(net), m.mutable_model());
    SetQuant(m.mutable_input(), net.TensorQuant(0));
    for (int i = 0; i < g.num_layers(); ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        const std::string name = g.LayerName(i);
        v1::QuantizedLayer* q = m.add_layers();
        const int in_t = g.inputs[static_cast<size_t>(i)][0];
        const QuantParams in = net.TensorQuant(in_t);
        const QuantParams out = net.TensorQuant(i + 1);
        SetQuant(q->mutable_output(), out);
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDepthwiseConv2d:
            case Op::kDense: {
                const torch::Tensor w = net.EffectiveWeight(i).to(torch::kCPU).to(torch::kFloat64);
                const torch::Tensor b = net.layer(i).bias.to(torch::kCPU).to(torch::kFloat64);
                const torch::Tensor scales = WeightScales(w, l.bits());
                torch::Tensor values = QuantizeWeight(w, scales, l.bits()).to(torch::kInt8);
                // Runtime layouts: conv OHWI, depthwise [1, KH, KW, C*mult], dense [units, in].
                if (l.op == Op::kConv2d) values = values.permute({0, 2, 3, 1});
                if (l.op == Op::kDepthwiseConv2d) values = values.permute({1, 2, 3, 0});
                values = values.contiguous();
                const int64_t channels = w.size(0);
                // The exact count after quantisation (which zeroes small
                // weights too): the cost model's and the code generator's
                // choice of sparse storage rest on it.
                m.mutable_model()->mutable_layers(i)->set_nonzero_weights(
                    (values != 0).sum().item<int64_t>());
                if (l.bits() == 4) {
                    // Packed in the runtime's rows (depthwise: the whole tensor as one).
                    const arch::WeightLayout layout = arch::WeightLayoutOf(g, i);
                    if (layout.rows * layout.row_length != values.numel()) {
                        throw Internal(name + ": weights do not match the layer's shape");
                    }
                    std::string packed(static_cast<size_t>(layout.bytes()), '\0');
                    if (nn_pack_s4(values.data_ptr<int8_t>(), static_cast<int32_t>(layout.rows),
                                   static_cast<int32_t>(layout.row_length),
                                   reinterpret_cast<int8_t*>(packed.data())) != NN_OK) {
                        throw Internal(name + ": nn_pack_s4 refused the weights");
                    }
                    q->set_weights(packed);
                } else {
                    q->set_weights(std::string(reinterpret_cast<const char*>(values.data_ptr()),
                                               static_cast<size_t>(values.numel())));
                }
                const auto* s = scales.data_ptr<double>();
                const auto* bias = b.data_ptr<double>();
                for (int64_t c = 0; c < channels; ++c) {
                    q->add_weight_scale(s[c]);
                    const double acc_scale = in.scale * s[c];
                    const double qb = std::round(bias[c] / acc_scale);
                    q->add_bias(static_cast<int32_t>(std::clamp(qb, -2147483648.0, 2147483647.0)));
                    int32_t mult = 0, shift = 0;
                    Requant(acc_scale / out.scale, &mult, &shift, name);
                    q->add_multiplier(mult);
                    q->add_shift(shift);
                }
                break;
            }
            case Op::kMaxPool:
            case Op::kAvgPool:
            case Op::kFlatten:
                break;  // keeps its input's quantisation (TensorQuant resolves it)
            case Op::kGlobalAvgPool: {
                int32_t mult = 0, shift = 0;
                Requant(in.scale / out.scale, &mult, &shift, name);
                q->set_pool_multiplier(mult);
                q->set_pool_shift(shift);
                break;
            }
            case Op::kAdd: {
                // TFLite's int8 ADD parameters.
                const QuantParams in2 = net.TensorQuant(g.inputs[static_cast<size_t>(i)][1]);
                const double twice_max = 2 * std::max(in.scale, in2.scale);
                v1::AddQuant* a = q->mutable_add();
                a->set_left_shift(20);
                int32_t mult = 0, shift = 0;
                Requant(in.scale / twice_max, &mult, &shift, name);
                a->set_input1_multiplier(mult);
                a->set_input1_shift(shift);
                Requant(in2.scale / twice_max, &mult, &shift, name);
                a->set_input2_multiplier(mult);
                a->set_input2_shift(shift);
                Requant(twice_max / ((1 << 20) * out.scale), &mult, &shift, name);
                a->set_output_multiplier(mult);
                a->set_output_shift(shift);
                break;
            }
        }
        const auto [lo, hi] = Clamp(l.activation, out);
        q->set_activation_min(lo);
        q->set_activation_max(hi);
    }
    m.set_sha256(artifact::ArtifactDigest(m));
    artifact::ValidateArtifact(m);
    return m;
}

torch::Tensor HostPredict(const v1::Int8Model& artifact, const Split& split, int threads) {
    const int64_t n = split.size();
    torch::Tensor out = torch::zeros({n}, torch::kLong);
    if (n == 0) return out;
    // NHWC real images, as the firmware's input tensor is laid out.
    const torch::Tensor real =
        ToReal(split.images.to(torch::kCPU)).permute({0, 2, 3, 1}).contiguous();
    const int64_t per = real[0].numel();
    const float* data = real.data_ptr<float>();
    int64_t* pred = out.data_ptr<int64_t>();
    threads = static_cast<int>(std::clamp<int64_t>(threads, 1, n));
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            try {
                firmware::HostModel model(artifact);
                for (int64_t i = t; i < n; i += threads) {
                    const std::vector<int8_t> x = model.QuantizeInput(
                        std::span<const float>(data + i * per, static_cast<size_t>(per)));
                    const std::vector<int8_t> y = model.Run(x);
                    pred[i] = std::max_element(y.begin(), y.end()) - y.begin();
                }
            } catch (...) {
                errors[static_cast<size_t>(t)] = std::current_exception();
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    return out;
}

double HostAccuracy(const v1::Int8Model& artifact, const Split& split, int threads) {
    if (split.size() == 0) return 0;
    return HostPredict(artifact, split, threads).eq(split.labels).sum().item<double>() /
           static_cast<double>(split.size());
}

}  // namespace hilnas::trainer
