// Pruning (SpArSe): sparse variational dropout (unstructured) and structured
// channel pruning. Private to the trainer (LibTorch types).
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

}  // namespace hilnas::trainer
