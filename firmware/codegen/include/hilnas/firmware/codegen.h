// The code generator: an int8 model artifact as C for the boards.
//
// model.h declares the model's API (firmware/harness/model_api.h) and its
// sizes; model.c holds the weights as const arrays (flash), one static arena
// laid out by the cost model's memory plan, and a straight-line
// model_invoke() that calls the runtime's kernels with named parameter
// structs and checks every status. A pure function of the artifact: the same
// artifact gives the same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "hilnas/v1/artifact.pb.h"

namespace hilnas::firmware {

struct GeneratedModel {
    std::string header;  // model.h
    std::string source;  // model.c
    int64_t arena_bytes = 0;
    int64_t weight_bytes = 0;  // const data emitted: weights, biases, requantisation
};

// Validates (ValidateArtifact) and generates. Throws InvalidArgument for a bad artifact.
// in_place_layers = false: the ordinary kernels only (BuildOptions::in_place_layers).
// Layers for which arch::KernelOf chooses a sparse kernel (8-bit conv and
// dense weights smaller in the runtime's sparse layout) are stored so, their
// scratch in the planned arena; sparse_weights = false stores every layer
// dense (BuildOptions::sparse_weights).
GeneratedModel GenerateModel(const v1::Int8Model& model, bool in_place_layers = true,
                             bool sparse_weights = true);

// Writes model.h and model.c into `dir` (created if missing), nothing else.
void WriteGeneratedModel(const GeneratedModel& generated, const std::string& dir);

}  // namespace hilnas::firmware
