// Removing output channels from a network: the IR shrinks and the weights are
// sliced, so the dense runtime computes less. Used by structured pruning and
// by DNAS (whose chosen widths keep each layer's first channels).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "network.h"

namespace hilnas::trainer {

// Layers whose output channels may be removed: conv2d and dense layers that
// are not the model output and whose channels never reach an add (following
// pools, depthwise convolutions, flatten and global pooling).
std::vector<bool> ShrinkableLayers(const arch::Graph& graph);

// A new network with, for each layer i where keep[i] is not empty, only the
// output channels keep[i] (sorted, original indices); everything downstream is
// sliced to match. Weights, biases, batch norms and masks are carried over.
// Throws InvalidArgument for a non-shrinkable layer or a bad index.
Network Shrink(const NetworkImpl& net, const std::vector<std::vector<int64_t>>& keep);

// The model with layer i's width (filters or units) set to widths[i] where > 0.
arch::Model WithWidths(const arch::Model& model, const std::vector<int>& widths);

}  // namespace hilnas::trainer
