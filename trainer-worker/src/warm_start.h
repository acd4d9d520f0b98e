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
    arch::Model model;
    std::map<std::string, torch::Tensor> tensors;  // the network's parameters and buffers
};

// A LibTorch archive with the IR (as JSON) and every parameter and buffer.
std::string WriteCheckpoint(const NetworkImpl& net);
// Throws InvalidArgument for bytes that are not a checkpoint.
Checkpoint ReadCheckpoint(const std::string& bytes);

// Copies the parent's weights into `child` as the mapping says (hilnas.v1.LayerMapping):
// COPY and WIDEN take rows out_channel_map and columns in_channel_map of the
// parent layer (columns duplicated from one parent channel share its weight,
// Net2Net); GROW_KERNEL centres the parent's kernel; IDENTITY makes the layer
// compute the identity (in a residual branch: its batch norm scale or weights
// start at zero); FRESH keeps the random initialisation. Throws
// InvalidArgument naming the mapping for shapes that do not fit.
void WarmStart(NetworkImpl& child, const Checkpoint& parent,
               const std::vector<arch::LayerMapping>& mapping);

}  // namespace hilnas::trainer
