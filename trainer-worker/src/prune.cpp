#include "prune.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "shrink.h"

namespace hilnas::trainer {

namespace {

// The trainable parameters of `net` other than those in `apart`.
std::vector<torch::Tensor> ParametersBut(NetworkImpl& net,
                                         const std::vector<torch::Tensor>& apart) {
    std::vector<torch::Tensor> rest;
    for (const auto& p : net.TrainableParameters()) {
        if (std::none_of(apart.begin(), apart.end(),
                         [&](const torch::Tensor& a) { return a.is_same(p); })) {
            rest.push_back(p);
        }
    }
    return rest;
}

// The variational loss's KL term, `kl_weight` per training image, ramped up
// from 0 over the first half of the steps.
std::function<torch::Tensor(int64_t, int64_t)> RampedKl(double kl_weight, const Dataset& data,
                                                        std::function<torch::Tensor()> kl) {
    const double per_image =
        kl_weight / static_cast<double>(std::max<int64_t>(data.train.size(), 1));
    return [per_image, kl = std::move(kl)](int64_t step, int64_t steps) {
        const double ramp = std::min(1.0, 2.0 * static_cast<double>(step + 1) /
                                              static_cast<double>(std::max<int64_t>(steps, 1)));
        return kl() * (per_image * ramp);
    };
}

}  // namespace

double SparseVdPrune(NetworkImpl& net, const Dataset& data, FitOptions fit,
                     const SparseVdOptions& o, const ProgressFn& progress,
                     const std::atomic<bool>* cancel) {
    net.log_alpha_threshold = o.log_alpha_threshold;
    net.EnableSparseVd(true);
    net.to(fit.device);
    std::vector<torch::Tensor> sigma;
    for (int i = 0; i < net.num_layers(); ++i) {
        if (net.layer(i).log_sigma2.defined()) sigma.push_back(net.layer(i).log_sigma2);
    }
    fit.parameters = ParametersBut(net, sigma);
    fit.extra_groups = {{sigma, o.log_sigma_lr_factor}};
    fit.weight_decay = 0;  // the KL term is the regulariser
    fit.extra_loss = RampedKl(o.kl_weight, data, [&net] { return net.KlDivergence(); });
    Fit(net, data, fit, progress, cancel);

    // Masks: the threshold first, then the target by decreasing log alpha.
    torch::NoGradGuard no_grad;
    net.eval();
    double sparsity = Sparsity(net);
    if (sparsity < o.target_sparsity) {
        std::vector<torch::Tensor> alphas;
        int64_t total = 0;
        for (int i = 0; i < net.num_layers(); ++i) {
            if (!net.layer(i).log_sigma2.defined()) continue;
            alphas.push_back(net.LogAlpha(i).flatten().to(torch::kCPU));
            total += alphas.back().numel();
        }
        const auto prune =
            static_cast<int64_t>(std::ceil(o.target_sparsity * static_cast<double>(total)));
        const torch::Tensor sorted = std::get<0>(torch::cat(alphas).sort(0, true));
        const double cut = sorted[std::min(prune, total) - 1].item<double>();
        net.log_alpha_threshold = std::min(o.log_alpha_threshold, cut - 1e-6);
    }
    net.FreezeSparseVd();
    net.train();
    return Sparsity(net);
}

Network ChannelPrune(const NetworkImpl& net, double target) {
    torch::NoGradGuard no_grad;
    const std::vector<bool> shrinkable = ShrinkableLayers(net.graph());
    std::vector<std::vector<int64_t>> keep(static_cast<size_t>(net.num_layers()));
    for (int i = 0; i < net.num_layers(); ++i) {
        if (!shrinkable[static_cast<size_t>(i)]) continue;
        const LayerState& s = net.layer(i);
        torch::Tensor importance = net.EffectiveWeight(i).abs().flatten(1).sum(1);
        if (s.has_bn) importance = importance * (s.bn_weight / torch::sqrt(s.bn_var + 1e-5)).abs();
        const int64_t c = importance.size(0);
        const int64_t k = std::clamp<int64_t>(
            static_cast<int64_t>(std::ceil((1.0 - target) * static_cast<double>(c))), 1, c);
        const torch::Tensor top =
            std::get<0>(std::get<1>(importance.to(torch::kCPU).topk(k)).sort()).contiguous();
        keep[static_cast<size_t>(i)] =
            std::vector<int64_t>(top.data_ptr<int64_t>(), top.data_ptr<int64_t>() + k);
    }
    return Shrink(net, keep);
}

BayesianCompressionResult BayesianCompress(NetworkImpl& net, const Dataset& data, FitOptions fit,
                                           const BayesianCompressionOptions& o,
                                           const ProgressFn& progress,
                                           const std::atomic<bool>* cancel) {
    const std::vector<bool> shrinkable = ShrinkableLayers(net.graph());
    net.to(fit.device);
    net.group_log_alpha_threshold = o.log_alpha_threshold;
    net.EnableGroupScales(shrinkable);
    std::vector<torch::Tensor> mu, sigma;
    for (int i = 0; i < net.num_layers(); ++i) {
        if (!net.layer(i).group_mu.defined()) continue;
        mu.push_back(net.layer(i).group_mu);
        sigma.push_back(net.layer(i).group_log_sigma2);
    }
    std::vector<torch::Tensor> scales = mu;
    scales.insert(scales.end(), sigma.begin(), sigma.end());
    fit.parameters = ParametersBut(net, scales);
    fit.extra_groups = {{mu, 1.0}, {sigma, o.log_sigma_lr_factor}};
    fit.extra_loss = RampedKl(o.kl_weight, data, [&net] { return net.GroupKlDivergence(); });
    if (!mu.empty()) Fit(net, data, fit, progress, cancel);

    // Per layer, as channel pruning does: the channels past the threshold go,
    // then, up to the target's share of the layer, the next by decreasing log
    // alpha. (One ranking over all layers together would empty a layer whose
    // scales all drift up alike, such as the last conv before a global pool.)
    torch::NoGradGuard no_grad;
    std::vector<std::vector<bool>> removed(static_cast<size_t>(net.num_layers()));
    int64_t total = 0, past = 0, count = 0;
    for (int i = 0; i < net.num_layers(); ++i) {
        if (!net.layer(i).group_mu.defined()) continue;
        const torch::Tensor la = net.GroupLogAlpha(i).to(torch::kCPU, torch::kDouble).contiguous();
        const int64_t c = la.numel();
        const double* a = la.data_ptr<double>();
        const auto ui = static_cast<size_t>(i);
        const int64_t protect = std::min_element(a, a + c) - a;
        removed[ui].assign(static_cast<size_t>(c), false);
        total += c;
        std::vector<int64_t> order;  // candidates, by decreasing log alpha
        for (int64_t k = 0; k < c; ++k) {
            if (k != protect) order.push_back(k);
        }
        std::stable_sort(order.begin(), order.end(),
                         [a](int64_t x, int64_t y) { return a[x] > a[y]; });
        const auto need =
            static_cast<int64_t>(std::ceil(o.target_sparsity * static_cast<double>(c) - 1e-9));
        int64_t gone = 0;
        for (const int64_t k : order) {
            const bool beyond = a[k] > o.log_alpha_threshold;
            if (!beyond && gone >= need) break;
            removed[ui][static_cast<size_t>(k)] = true;
            ++gone;
            past += beyond ? 1 : 0;
        }
        count += gone;
    }

    std::vector<std::vector<int64_t>> keep(static_cast<size_t>(net.num_layers()));
    for (size_t i = 0; i < removed.size(); ++i) {
        for (size_t k = 0; k < removed[i].size(); ++k) {
            if (!removed[i][k]) keep[i].push_back(static_cast<int64_t>(k));
        }
        if (keep[i].size() == removed[i].size()) keep[i].clear();  // unchanged
    }
    net.FoldGroupScales();
    net.train();
    BayesianCompressionResult r;
    r.network = Shrink(net, keep);
    r.channels_removed = total > 0 ? static_cast<double>(count) / static_cast<double>(total) : 0;
    r.channels_past_threshold =
        total > 0 ? static_cast<double>(past) / static_cast<double>(total) : 0;
    return r;
}

}  // namespace hilnas::trainer
