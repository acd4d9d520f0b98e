// Pruning (SpArSe): sparse variational dropout (unstructured), structured
// channel pruning by magnitude and structured Bayesian compression. Private to
// the trainer (LibTorch types).
#pragma once

#include <atomic>

#include "fit.h"
#include "network.h"

namespace hilnas::trainer {

struct SparseVdOptions {
    double target_sparsity = 0;  // at least this fraction of weights ends at zero
    double log_alpha_threshold = 3;
    double kl_weight = 1;             // of the KL term per training image, ramped up from 0
    double log_sigma_lr_factor = 20;  // log sigma^2 learns this much faster than weights
};

// Trains `net` with sparse VD (per-weight log alpha, local reparameterisation,
// Molchanov's KL approximation), then prunes where log alpha > threshold and,
// if that leaves fewer zeros than the target, the next weights by decreasing
// log alpha. The result is a mask on every weighted layer; VD is off after.
// Returns the sparsity reached.
double SparseVdPrune(NetworkImpl& net, const Dataset& data, FitOptions fit,
                     const SparseVdOptions& options, const ProgressFn& progress,
                     const std::atomic<bool>* cancel);

// Structured pruning: in every shrinkable layer, keeps the ceil((1 - target) * C)
// output channels with the largest L1 norm (scaled by their batch norm), and
// returns the smaller network. Not fine-tuned.
Network ChannelPrune(const NetworkImpl& net, double target_fraction);

struct BayesianCompressionOptions {
    // At least this fraction of each shrinkable layer's channels is removed
    // (less where that would leave the layer none: it keeps one).
    double target_sparsity = 0;
    double log_alpha_threshold = 3;  // a channel whose scale's log alpha exceeds it goes
    double kl_weight = 1;            // of the KL term per training image, ramped up from 0
    // The scales' log sigma^2 (starting at -6) learns this much faster than
    // the weights, so that a channel the data does not need passes the
    // threshold within an epoch or two.
    double log_sigma_lr_factor = 50;
};

struct BayesianCompressionResult {
    Network network{nullptr};            // the smaller network, not fine-tuned
    double channels_removed = 0;         // fraction of the shrinkable layers' channels
    double channels_past_threshold = 0;  // of those channels, log alpha > threshold
};

// Structured Bayesian compression (Louizos et al. 2017, as SpArSe uses it):
// every output channel of each shrinkable layer gets a multiplicative scale
// z_c ~ N(mu_c, sigma_c^2) after its batch norm, under the log-uniform group
// prior p(z) ~ 1/|z|; the weights stay point estimates. Trains `net` for
// fit.epochs with the scales (one draw per image and channel: the local
// reparameterisation), minimising the data loss plus kl_weight / N_train times
// the KL (Molchanov's approximation in log alpha_c = log sigma_c^2 - log mu_c^2),
// ramped up over the first half. Then, in each layer, removes the channels
// whose log alpha exceeds the threshold and, if that is fewer than the
// target's share of the layer, the next ones by decreasing log alpha; a layer
// always keeps its lowest-log-alpha channel.
// The kept channels' mu is folded into their batch norm (or weights and bias)
// and the network shrinks (see Shrink). `net` keeps the folded weights.
BayesianCompressionResult BayesianCompress(NetworkImpl& net, const Dataset& data, FitOptions fit,
                                           const BayesianCompressionOptions& options,
                                           const ProgressFn& progress,
                                           const std::atomic<bool>* cancel);

}  // namespace hilnas::trainer
