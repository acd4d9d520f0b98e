// Checkpoints (float weights for children's warm starts) and the warm start
// itself through the network morphism's layer mapping. Private to the trainer.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hilnas/arch/space.h"
#include "network.h"

namespace hilnas::trainer {

struct Checkpoint {
    arch::Model model;  // the trained (final) model: after DNAS and channel pruning
    // The candidate it was trained from, when the checkpoint records it: the
    // widths a child's channel maps index into. Empty layers: not recorded.
    arch::Model candidate;
    std::map<std::string, torch::Tensor> tensors;  // the network's parameters and buffers
};

// A LibTorch archive with the IR (as JSON), the candidate's IR when given,
// and every parameter and buffer.
std::string WriteCheckpoint(const NetworkImpl& net, const arch::Model* candidate = nullptr);
// Throws InvalidArgument for bytes that are not a checkpoint.
Checkpoint ReadCheckpoint(const std::string& bytes);

// Copies the parent's weights into `child` as the mapping says (hilnas.v1.LayerMapping):
// COPY and WIDEN take rows out_channel_map and columns in_channel_map of the
// parent layer (columns duplicated from one parent channel share its weight,
// Net2Net); GROW_KERNEL centres the parent's kernel; IDENTITY makes the layer
// compute the identity (in a residual branch: its batch norm scale or weights
// start at zero); FRESH keeps the random initialisation. The maps index the
// parent's candidate; where its final model is narrower (DNAS keeps the first
// channels, channel pruning the strongest), a channel index i folds to
// i mod (channels kept), and the next layer's columns are split among the
// copies (Net2Net again): the child starts computing the parent's final
// function. Throws InvalidArgument naming the mapping for shapes that do not
// fit.
void WarmStart(NetworkImpl& child, const Checkpoint& parent,
               const std::vector<arch::LayerMapping>& mapping);

}  // namespace hilnas::trainer
