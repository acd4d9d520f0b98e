// Export to the int8 artifact and evaluation on the host int8 runtime.
// Private to the trainer (LibTorch types).
#pragma once

#include <torch/torch.h>

#include <string>

#include "dataset.h"
#include "hilnas/v1/artifact.pb.h"
#include "network.h"

namespace hilnas::trainer {

// The artifact for `net`: BN must be folded and every activation range
// observed (Calibrate or QAT). Weights as QAT fake-quantises them (per-channel
// symmetric), int32 biases at input scale x weight scale, requantisation by
// nn_quantize_multiplier, pools keeping their input's quantisation. The IR
// carries each layer's sparsity. Throws FailedPrecondition otherwise; the
// result passes ValidateArtifact.
v1::Int8Model ExportInt8(const NetworkImpl& net, const std::string& producer);

// Predictions [N] (int64) of the artifact on the host int8 runtime (the
// firmware's kernels), the images quantised as the firmware receives them.
// Runs `threads` runtimes side by side.
torch::Tensor HostPredict(const v1::Int8Model& artifact, const Split& split, int threads = 2);
double HostAccuracy(const v1::Int8Model& artifact, const Split& split, int threads = 2);

}  // namespace hilnas::trainer
