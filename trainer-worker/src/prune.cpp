#include "prune.h"

#include <algorithm>
#include <cmath>

#include "shrink.h"

namespace hilnas::trainer {

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
    std::vector<torch::Tensor> rest;
    for (const auto& p : net.TrainableParameters()) {
        if (std::none_of(sigma.begin(), sigma.end(),
                         [&](const torch::Tensor& s) { return s.is_same(p); })) {
            rest.push_back(p);
        }
    }
    fit.parameters = rest;
    fit.extra_groups = {{sigma, o.log_sigma_lr_factor}};
    fit.weight_decay = 0;  // the KL term is the regulariser
    const double per_image =
        o.kl_weight / static_cast<double>(std::max<int64_t>(data.train.size(), 1));
    fit.extra_loss = [&net, per_image](int64_t step, int64_t steps) {
        const double ramp = std::min(1.0, 2.0 * static_cast<double>(step + 1) /
                                              static_cast<double>(std::max<int64_t>(steps, 1)));
        return net.KlDivergence() * (per_image * ramp);
    };
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

}  // namespace hilnas::trainer
