// Lowering: an artifact, validated and planned, as the exact sequence of
// kernel calls the runtime makes. The host executor calls them; the code
// generator prints them. One lowering for both is what makes the generated
// firmware and the host runtime compute the same bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "hilnas/arch/kernels.h"
#include "hilnas/arch/planner.h"
#include "hilnas/v1/artifact.pb.h"
#include "hilnas_nn/nn_functions.h"

namespace hilnas::firmware {

// Which kernel a layer runs is arch's rule (hilnas/arch/kernels.h), shared
// with the memory planner and the flash prediction.
using arch::Kernel;
using arch::KernelFunction;

struct KernelCall {
    int layer = 0;
    Kernel kernel = Kernel::kView;
    nn_dims input{}, filter{}, output{};
    nn_conv_params conv{};
    nn_dw_conv_params dw{};
    nn_pool_params pool{};
    nn_global_pool_params global_pool{};
    nn_per_tensor_quant global_quant{};
    nn_fc_params fc{};
    nn_add_params add{};
    int64_t input_offset = 0;   // arena offsets
    int64_t input2_offset = 0;  // add's second input
    int64_t output_offset = 0;
    int64_t scratch_offset = 0;
    int32_t scratch_bytes = 0;
    // The weights in the runtime's sparse layout (nn_pack_sparse_s8), for the
    // sparse kernels only: arch::StoredWeightBytes bytes.
    std::vector<int8_t> sparse_weights;
};

struct Lowered {
    arch::Graph graph;
    arch::MemoryPlan plan;
    std::vector<KernelCall> calls;
    int64_t input_offset = 0;
    int64_t output_offset = 0;
    int64_t input_bytes = 0;
    int64_t output_bytes = 0;
};

// Validates (ValidateArtifact), plans the arena with the cost model's best
// strategy, and lowers every layer. in_place_layers = false: the ordinary
// kernels only (BuildOptions::in_place_layers). sparse_weights = false: every
// layer's weights dense, as if no layer carried nonzero_weights
// (BuildOptions::sparse_weights), for the kernel benchmark's comparison.
Lowered Lower(const v1::Int8Model& model, bool in_place_layers = true, bool sparse_weights = true);

}  // namespace hilnas::firmware
