#include "network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "hilnas/common/errors.h"

namespace hilnas::trainer {

namespace {

using arch::Activation;
using arch::Op;
namespace F = torch::nn::functional;

constexpr double kBnEps = 1e-5;
constexpr double kBnMomentum = 0.1;

torch::Tensor Activate(const torch::Tensor& y, Activation a) {
    switch (a) {
        case Activation::kNone:
            return y;
        case Activation::kRelu:
            return torch::relu(y);
        case Activation::kRelu6:
            return torch::clamp(y, 0.0, 6.0);
    }
    return y;
}

// [N, C] (a dense output, shape [1, 1, C]) as [N, C, 1, 1].
torch::Tensor To4d(const torch::Tensor& x) {
    return x.dim() == 2 ? x.view({x.size(0), x.size(1), 1, 1}) : x;
}

std::array<int64_t, 4> SamePads(const arch::Layer& l, const arch::Shape& x,
                                const std::array<int, 2>& window) {
    if (l.padding == arch::Padding::kValid) return {0, 0, 0, 0};
    auto pads = [](int in, int k, int s) {
        const int out = (in + s - 1) / s;
        const int total = std::max((out - 1) * s + k - in, 0);
        const int before = arch::SamePadBefore(in, k, s);
        return std::pair<int64_t, int64_t>{before, total - before};
    };
    const auto [t, b] = pads(x.h, window[0], l.stride[0]);
    const auto [left, r] = pads(x.w, window[1], l.stride[1]);
    return {left, r, t, b};
}

bool Symmetric(const std::array<int64_t, 4>& p) { return p[0] == p[1] && p[2] == p[3]; }

torch::Tensor Pad(const torch::Tensor& x, const std::array<int64_t, 4>& p, double value) {
    if (p == std::array<int64_t, 4>{0, 0, 0, 0}) return x;
    return torch::constant_pad_nd(x, {p[0], p[1], p[2], p[3]}, value);
}

std::vector<int64_t> View(const torch::Tensor& w) {
    std::vector<int64_t> v(static_cast<size_t>(w.dim()), 1);
    v[0] = -1;
    return v;
}

}  // namespace

QuantParams ChooseActivationQuant(double lo, double hi) {
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    QuantParams q;
    q.scale = (hi - lo) / 255.0;
    q.zero_point =
        static_cast<int>(std::clamp<long>(std::lround(-128.0 - lo / q.scale), -128, 127));
    return q;
}

torch::Tensor WeightScales(const torch::Tensor& weight, int bits) {
    const double qmax = bits == 4 ? 7.0 : 127.0;
    const torch::Tensor amax = weight.detach().abs().flatten(1).amax(1);
    return torch::where(amax > 0, amax / qmax, torch::ones_like(amax));
}

torch::Tensor QuantizeWeight(const torch::Tensor& weight, const torch::Tensor& scales, int bits) {
    const double qmax = bits == 4 ? 7.0 : 127.0;
    return torch::clamp(torch::round(weight / scales.view(View(weight))), -qmax, qmax);
}

torch::Tensor FlattenNhwc(const torch::Tensor& x) {
    if (x.dim() == 2) return x;
    return x.permute({0, 2, 3, 1}).reshape({x.size(0), -1});
}

NetworkImpl::NetworkImpl(const arch::Model& model, bool batch_norm) : graph_(arch::Analyze(model)) {
    const int n = graph_.num_layers();
    layers_.resize(static_cast<size_t>(n));
    quant_source_.assign(static_cast<size_t>(n) + 1, 0);
    lo_.assign(static_cast<size_t>(n) + 1, 0.0);
    hi_.assign(static_cast<size_t>(n) + 1, 0.0);
    observed_.assign(static_cast<size_t>(n) + 1, false);
    for (int i = 0; i < n; ++i) {
        const arch::Layer& l = graph_.model.layers[static_cast<size_t>(i)];
        const arch::Shape& x = graph_.input_of(i);
        const arch::Shape& y = graph_.output(i);
        LayerState& s = layers_[static_cast<size_t>(i)];
        const std::string p = "l" + std::to_string(i) + "_";
        std::vector<int64_t> shape;
        int64_t fan_in = 0;
        switch (l.op) {
            case Op::kConv2d:
                shape = {l.filters, x.c, l.kernel[0], l.kernel[1]};
                fan_in = int64_t{x.c} * l.kernel[0] * l.kernel[1];
                s.pad = SamePads(l, x, l.kernel);
                break;
            case Op::kDepthwiseConv2d:
                shape = {int64_t{x.c} * l.depth_multiplier, 1, l.kernel[0], l.kernel[1]};
                fan_in = int64_t{l.kernel[0]} * l.kernel[1];
                s.pad = SamePads(l, x, l.kernel);
                break;
            case Op::kDense:
                shape = {l.units, x.elements()};
                fan_in = x.elements();
                break;
            case Op::kMaxPool:
                s.pad = SamePads(l, x, l.pool);
                break;
            case Op::kAvgPool: {
                s.pad = SamePads(l, x, l.pool);
                torch::NoGradGuard no_grad;
                const torch::Tensor ones = Pad(torch::ones({1, 1, x.h, x.w}), s.pad, 0.0);
                s.pool_count = register_buffer(
                    p + "pool_count",
                    torch::avg_pool2d(ones, {l.pool[0], l.pool[1]}, {l.stride[0], l.stride[1]}) *
                        (l.pool[0] * l.pool[1]));
                break;
            }
            default:
                break;
        }
        const bool passes_quant =
            l.op == Op::kMaxPool || l.op == Op::kAvgPool || l.op == Op::kFlatten;
        quant_source_[static_cast<size_t>(i) + 1] =
            passes_quant
                ? quant_source_[static_cast<size_t>(graph_.inputs[static_cast<size_t>(i)][0])]
                : i + 1;
        if (shape.empty()) continue;
        const double gain = l.activation == Activation::kNone ? 1.0 : 2.0;
        s.weight = register_parameter(
            p + "weight", torch::randn(shape) * std::sqrt(gain / static_cast<double>(fan_in)));
        s.bias = register_parameter(p + "bias", torch::zeros({shape[0]}));
        if (batch_norm && l.op != Op::kDense) {
            s.has_bn = true;
            s.bn_weight = register_parameter(p + "bn_weight", torch::ones({shape[0]}));
            s.bn_bias = register_parameter(p + "bn_bias", torch::zeros({shape[0]}));
            s.bn_mean = register_buffer(p + "bn_mean", torch::zeros({shape[0]}));
            s.bn_var = register_buffer(p + "bn_var", torch::ones({shape[0]}));
        }
        (void)y;
    }
}

int64_t NetworkImpl::out_channels(int i) const {
    const LayerState& s = layer(i);
    return s.weight.defined() ? s.weight.size(0) : graph_.output(i).c;
}

bool NetworkImpl::has_batch_norm() const {
    return std::any_of(layers_.begin(), layers_.end(),
                       [](const LayerState& s) { return s.has_bn; });
}

void NetworkImpl::FoldBatchNorm() {
    torch::NoGradGuard no_grad;
    for (LayerState& s : layers_) {
        if (!s.has_bn) continue;
        const torch::Tensor scale = s.bn_weight / torch::sqrt(s.bn_var + kBnEps);
        s.weight.mul_(scale.view(View(s.weight)));
        s.bias.copy_((s.bias - s.bn_mean) * scale + s.bn_bias);
        s.has_bn = false;
    }
}

torch::Tensor NetworkImpl::LogAlpha(int i) const {
    const LayerState& s = layer(i);
    return torch::clamp(s.log_sigma2 - torch::log(s.weight * s.weight + 1e-8), -10.0, 10.0);
}

torch::Tensor NetworkImpl::EffectiveWeight(int i) const {
    const LayerState& s = layer(i);
    torch::Tensor w = s.weight;
    if (s.mask.defined()) w = w * s.mask;
    if (sparse_vd_ && !is_training()) w = w * (LogAlpha(i) < log_alpha_threshold).to(w.dtype());
    return w;
}

std::vector<torch::Tensor> NetworkImpl::TrainableParameters() const {
    std::vector<torch::Tensor> out;
    for (const LayerState& s : layers_) {
        if (!s.weight.defined()) continue;
        out.push_back(s.weight);
        out.push_back(s.bias);
        if (s.has_bn) {
            out.push_back(s.bn_weight);
            out.push_back(s.bn_bias);
        }
        if (sparse_vd_ && s.log_sigma2.defined()) out.push_back(s.log_sigma2);
        if (group_scales_ && s.group_mu.defined()) {
            out.push_back(s.group_mu);
            out.push_back(s.group_log_sigma2);
        }
    }
    return out;
}

void NetworkImpl::EnableSparseVd(bool enabled) {
    sparse_vd_ = enabled;
    if (!enabled) return;
    for (int i = 0; i < num_layers(); ++i) {
        LayerState& s = layers_[static_cast<size_t>(i)];
        if (!s.weight.defined() || s.log_sigma2.defined()) continue;
        s.log_sigma2 = register_parameter("l" + std::to_string(i) + "_log_sigma2",
                                          torch::full_like(s.weight.detach(), -10.0));
    }
}

torch::Tensor NetworkImpl::KlDivergence() const {
    constexpr double k1 = 0.63576, k2 = 1.87320, k3 = 1.48695;
    std::vector<torch::Tensor> terms;
    for (int i = 0; i < num_layers(); ++i) {
        const LayerState& s = layer(i);
        if (!s.log_sigma2.defined()) continue;
        const torch::Tensor la = LogAlpha(i);
        const torch::Tensor neg_kl =
            k1 * torch::sigmoid(k2 + k3 * la) - 0.5 * torch::log1p(torch::exp(-la)) - k1;
        terms.push_back(-(s.mask.defined() ? neg_kl * s.mask : neg_kl).sum());
    }
    return terms.empty() ? torch::zeros({}) : torch::stack(terms).sum();
}

void NetworkImpl::FreezeSparseVd() {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < num_layers(); ++i) {
        LayerState& s = layers_[static_cast<size_t>(i)];
        if (!s.log_sigma2.defined()) continue;
        const torch::Tensor keep = (LogAlpha(i) < log_alpha_threshold).to(s.weight.dtype());
        SetMask(i, s.mask.defined() ? s.mask * keep : keep);
    }
    sparse_vd_ = false;
}

void NetworkImpl::EnableGroupScales(const std::vector<bool>& layers) {
    for (int i = 0; i < num_layers(); ++i) {
        LayerState& s = layers_[static_cast<size_t>(i)];
        if (static_cast<size_t>(i) >= layers.size() || !layers[static_cast<size_t>(i)] ||
            !s.weight.defined() || s.group_mu.defined()) {
            continue;
        }
        const std::string p = "l" + std::to_string(i) + "_group_";
        const auto options = s.weight.options();
        s.group_mu = register_parameter(p + "mu", torch::ones({s.weight.size(0)}, options));
        s.group_log_sigma2 =
            register_parameter(p + "log_sigma2", torch::full({s.weight.size(0)}, -6.0, options));
    }
    group_scales_ = true;
}

torch::Tensor NetworkImpl::GroupLogAlpha(int i) const {
    const LayerState& s = layer(i);
    return torch::clamp(s.group_log_sigma2 - torch::log(s.group_mu * s.group_mu + 1e-8), -10.0,
                        10.0);
}

torch::Tensor NetworkImpl::GroupKlDivergence() const {
    constexpr double k1 = 0.63576, k2 = 1.87320, k3 = 1.48695;
    std::vector<torch::Tensor> terms;
    for (int i = 0; i < num_layers(); ++i) {
        if (!layer(i).group_mu.defined()) continue;
        const torch::Tensor la = GroupLogAlpha(i);
        terms.push_back(
            -(k1 * torch::sigmoid(k2 + k3 * la) - 0.5 * torch::log1p(torch::exp(-la)) - k1).sum());
    }
    return terms.empty() ? torch::zeros({}) : torch::stack(terms).sum();
}

void NetworkImpl::FoldGroupScales() {
    torch::NoGradGuard no_grad;
    for (LayerState& s : layers_) {
        if (!s.group_mu.defined()) continue;
        if (s.has_bn) {
            s.bn_weight.mul_(s.group_mu);
            s.bn_bias.mul_(s.group_mu);
        } else {
            s.weight.mul_(s.group_mu.view(View(s.weight)));
            s.bias.mul_(s.group_mu);
        }
        s.group_mu.fill_(1.0);
        s.group_log_sigma2.fill_(-std::numeric_limits<double>::infinity());
    }
    group_scales_ = false;
}

void NetworkImpl::SetMask(int i, const torch::Tensor& mask) {
    torch::NoGradGuard no_grad;
    LayerState& s = layers_[static_cast<size_t>(i)];
    if (s.mask.defined()) {
        s.mask.copy_(mask);
    } else {
        s.mask =
            register_buffer("l" + std::to_string(i) + "_mask", mask.to(s.weight.options()).clone());
    }
}

bool NetworkImpl::HasRange(int t) const { return observed_[static_cast<size_t>(QuantSource(t))]; }

QuantParams NetworkImpl::TensorQuant(int t) const {
    const int src = QuantSource(t);
    if (src == 0) return QuantParams{1.0 / 255.0, -128};
    if (!observed_[static_cast<size_t>(src)]) {
        throw FailedPrecondition("tensor " + std::to_string(src) + " has no observed range");
    }
    return ChooseActivationQuant(lo_[static_cast<size_t>(src)], hi_[static_cast<size_t>(src)]);
}

void NetworkImpl::ResetRanges() { std::fill(observed_.begin(), observed_.end(), false); }

torch::Tensor NetworkImpl::Observe(int t, const torch::Tensor& y) {
    const auto ut = static_cast<size_t>(t);
    const bool update = quant_mode_ == QuantMode::kObserve ||
                        (quant_mode_ == QuantMode::kFakeQuant && is_training());
    if (update) {
        const auto mm = torch::aminmax(y.detach());
        const double lo = std::get<0>(mm).item<double>(), hi = std::get<1>(mm).item<double>();
        if (!observed_[ut]) {
            lo_[ut] = lo;
            hi_[ut] = hi;
            observed_[ut] = true;
        } else {
            lo_[ut] = range_momentum * lo_[ut] + (1 - range_momentum) * lo;
            hi_[ut] = range_momentum * hi_[ut] + (1 - range_momentum) * hi;
        }
    }
    if (quant_mode_ != QuantMode::kFakeQuant) return y;
    const QuantParams q = TensorQuant(t);
    return at::fake_quantize_per_tensor_affine(y, q.scale, q.zero_point, -128, 127);
}

torch::Tensor NetworkImpl::Weighted(int i, const torch::Tensor& x_in) {
    const arch::Layer& l = graph_.model.layers[static_cast<size_t>(i)];
    const LayerState& s = layer(i);
    torch::Tensor w = EffectiveWeight(i);
    if (quant_mode_ == QuantMode::kFakeQuant) {
        const torch::Tensor scales = WeightScales(w, l.bits()).view(View(w));
        const torch::Tensor q = QuantizeWeight(w, WeightScales(w, l.bits()), l.bits()) * scales;
        w = w + (q - w).detach();  // straight-through estimator
    }
    const bool lrt = sparse_vd_ && is_training() && s.log_sigma2.defined();
    torch::Tensor var_w;
    if (lrt) {
        var_w = torch::exp(s.log_sigma2);
        if (s.mask.defined()) var_w = var_w * s.mask;
    }
    if (l.op == Op::kDense) {
        const torch::Tensor x = FlattenNhwc(x_in);
        torch::Tensor y = torch::linear(x, w, s.bias);
        if (lrt) y = y + torch::sqrt(torch::linear(x * x, var_w) + 1e-8) * torch::randn_like(y);
        return GroupScale(i, y);
    }
    torch::Tensor x = To4d(x_in);
    std::vector<int64_t> padding{0, 0};
    if (Symmetric(s.pad)) {
        padding = {s.pad[2], s.pad[0]};
    } else {
        x = Pad(x, s.pad, 0.0);
    }
    const int64_t groups = l.op == Op::kDepthwiseConv2d ? x.size(1) : 1;
    const std::vector<int64_t> stride{l.stride[0], l.stride[1]};
    torch::Tensor y = torch::conv2d(x, w, s.bias, stride, padding, {1, 1}, groups);
    if (lrt) {
        y = y +
            torch::sqrt(torch::conv2d(x * x, var_w, {}, stride, padding, {1, 1}, groups) + 1e-8) *
                torch::randn_like(y);
    }
    if (s.has_bn) {
        y = torch::batch_norm(y, s.bn_weight, s.bn_bias, s.bn_mean, s.bn_var, is_training(),
                              kBnMomentum, kBnEps, false);
    }
    return GroupScale(i, y);
}

torch::Tensor NetworkImpl::GroupScale(int i, const torch::Tensor& y) const {
    const LayerState& s = layer(i);
    if (!group_scales_ || !s.group_mu.defined()) return y;
    std::vector<int64_t> shape(static_cast<size_t>(y.dim()), 1);
    shape[1] = y.size(1);
    if (!is_training()) {
        const torch::Tensor keep = (GroupLogAlpha(i) < group_log_alpha_threshold).to(y.dtype());
        return y * (s.group_mu * keep).view(shape);
    }
    // z is one draw per image and channel, shared by the channel's positions:
    // the exact distribution of the scaled pre-activations given the input.
    shape[0] = y.size(0);
    const torch::Tensor z =
        s.group_mu.view({1, -1}) + torch::exp(0.5 * s.group_log_sigma2).view({1, -1}) *
                                       torch::randn({y.size(0), y.size(1)}, y.options());
    return y * z.view(shape);
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& input) {
    const int n = num_layers();
    std::vector<torch::Tensor> t(static_cast<size_t>(n) + 1);
    t[0] = input;
    for (int i = 0; i < n; ++i) {
        const arch::Layer& l = graph_.model.layers[static_cast<size_t>(i)];
        const LayerState& s = layer(i);
        const auto& ins = graph_.inputs[static_cast<size_t>(i)];
        const torch::Tensor& x = t[static_cast<size_t>(ins[0])];
        torch::Tensor y;
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDepthwiseConv2d:
            case Op::kDense:
                y = Activate(Weighted(i, x), l.activation);
                if (s.gate.defined()) {
                    y = y * (y.dim() == 2 ? s.gate.view({1, -1}) : s.gate.view({1, -1, 1, 1}));
                }
                y = Observe(i + 1, y);
                break;
            case Op::kMaxPool:
                y = torch::max_pool2d(Pad(To4d(x), s.pad, -std::numeric_limits<double>::infinity()),
                                      {l.pool[0], l.pool[1]}, {l.stride[0], l.stride[1]});
                y = Activate(y, l.activation);
                break;
            case Op::kAvgPool: {
                y = torch::avg_pool2d(Pad(To4d(x), s.pad, 0.0), {l.pool[0], l.pool[1]},
                                      {l.stride[0], l.stride[1]}) *
                    (l.pool[0] * l.pool[1]) / s.pool_count;
                y = Activate(y, l.activation);
                if (quant_mode_ == QuantMode::kFakeQuant) {
                    const QuantParams q = TensorQuant(i + 1);
                    y = at::fake_quantize_per_tensor_affine(y, q.scale, q.zero_point, -128, 127);
                }
                break;
            }
            case Op::kGlobalAvgPool:
                y = x.dim() == 2 ? x : x.mean({2, 3}, true);
                y = Observe(i + 1, Activate(y, l.activation));
                break;
            case Op::kFlatten:
                y = Activate(FlattenNhwc(x), l.activation);
                break;
            case Op::kAdd: {
                const torch::Tensor& x2 = t[static_cast<size_t>(ins[1])];
                y = x.dim() == x2.dim() ? x + x2 : To4d(x) + To4d(x2);
                y = Observe(i + 1, Activate(y, l.activation));
                break;
            }
        }
        t[static_cast<size_t>(i) + 1] = y;
    }
    return FlattenNhwc(t.back());
}

double LayerSparsity(const NetworkImpl& net, int i) {
    torch::NoGradGuard no_grad;
    const torch::Tensor w = net.EffectiveWeight(i);
    return (w == 0).sum().item<double>() / static_cast<double>(w.numel());
}

double Sparsity(const NetworkImpl& net) {
    torch::NoGradGuard no_grad;
    double zeros = 0, total = 0;
    for (int i = 0; i < net.num_layers(); ++i) {
        if (!net.layer(i).weight.defined()) continue;
        const torch::Tensor w = net.EffectiveWeight(i);
        zeros += (w == 0).sum().item<double>();
        total += static_cast<double>(w.numel());
    }
    return total > 0 ? zeros / total : 0.0;
}

arch::Model WithSparsity(const NetworkImpl& net) {
    arch::Model m = net.model();
    for (int i = 0; i < net.num_layers(); ++i) {
        auto& l = m.layers[static_cast<size_t>(i)];
        if (!net.layer(i).weight.defined()) continue;
        const double s = LayerSparsity(net, i);
        if (s > 0) {
            l.sparsity = std::min(s, 0.999999);
        } else {
            l.sparsity.reset();
        }
    }
    return m;
}

}  // namespace hilnas::trainer
