// The analytic cost model: exact figures for a model before it is trained.
//
// Definitions (int8 activations, one byte per element):
//   params        weights + biases. conv2d kh*kw*cin*filters + filters;
//                 depthwise kh*kw*cin*mult + cin*mult; dense in*units + units.
//   macs          conv2d Hout*Wout*filters*kh*kw*cin; depthwise
//                 Hout*Wout*cin*mult*kh*kw; dense in*units; pools, add, flatten 0.
//   weight_bytes  what the runtime stores in flash for the weights, int32
//                 biases and per-channel requantisation (int32 multiplier and
//                 int32 shift per output channel). The weights as the kernel
//                 that KernelOf chooses reads them (StoredWeightBytes): 8-bit
//                 weights a byte each; 4-bit ones packed two to a byte along
//                 each row of WeightLayoutOf, a row padded to a whole byte;
//                 8-bit conv and dense weights that are smaller in the
//                 runtime's sparse layout (a bitmap per row plus the non-zero
//                 values: nn_convolve_sparse_s8, nn_fully_connected_sparse_s8)
//                 stored so. Exact for a model that carries each layer's
//                 nonzero_weights (the trainer's export writes them); a model
//                 with only `sparsity` targets counts dense.
//   nonzero_weight_bytes  SpArSe's model size: as weight_bytes, but counting
//                 only the non-zero weights: the layer's nonzero_weights when
//                 the model has it (exported models do), else
//                 weights * (1 - sparsity), rounded up.
//   working_memory_bytes  SpArSe's working memory: the largest, over layers, of
//                 the bytes of all its inputs plus its output.
//   arena_bytes   the peak of the runtime's memory plan, scratch included.
//   flash_bytes   the prediction of the ELF's .text + .rodata + .data that a
//                 board agent measures, for the board's firmware: from a
//                 calibration of real builds, piece by piece (flash.h).
//   code_bytes    flash_bytes - weight_bytes: code, tables and alignment.
//   runtime_ram_bytes  the firmware's static RAM outside the arena (.data and
//                 .bss of the harness and board support, the harness's copy
//                 of the input), calibrated against ELF sizes.
//   stack_bytes_estimate  the stack high-water mark inference reaches.
//   sram_bytes    arena_bytes + runtime_ram_bytes + stack_bytes_estimate: the
//                 prediction of the SRAM a board agent measures (.data + .bss,
//                 arena included, + the stack high-water mark).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/arch/flash.h"
#include "hilnas/arch/model.h"
#include "hilnas/arch/planner.h"

namespace hilnas::arch {

struct LayerCost {
    int64_t params = 0;
    int64_t macs = 0;
    int64_t weight_bytes = 0;
    int64_t nonzero_weight_bytes = 0;
    int64_t working_memory_bytes = 0;  // inputs + output
    int64_t scratch_bytes = 0;
    // What the firmware's model.c holds for it: weight_bytes with the packed
    // weights' array padded to 4 bytes (the int32 tables are already whole words).
    int64_t weight_array_bytes = 0;
};

struct CostReport {
    int64_t params = 0;
    int64_t macs = 0;
    int64_t weight_bytes = 0;
    int64_t nonzero_weight_bytes = 0;
    int64_t working_memory_bytes = 0;
    int64_t arena_bytes = 0;
    int64_t code_bytes = 0;
    int64_t flash_bytes = 0;
    int64_t runtime_ram_bytes = 0;
    int64_t stack_bytes_estimate = 0;
    int64_t sram_bytes = 0;
    std::vector<LayerCost> layers;
    MemoryPlan plan;
};

LayerCost ComputeLayerCost(const Graph& graph, int layer, const ScratchFn& scratch);

// How the runtime stores a layer's weights (the artifact's `weights`, the
// firmware's weight array): `rows` rows of `row_length` values in the kernel's
// order, each row starting on a byte, a byte per 8-bit value, two per byte for
// 4-bit ones (nn_pack_s4). conv2d: a row per output channel (OHWI); dense: a row
// per unit; depthwise: the whole [1, KH, KW, C * mult] tensor as one row
// (nn_depthwise_conv_s4). All zero for a layer without weights.
struct WeightLayout {
    int64_t rows = 0;
    int64_t row_length = 0;
    int bits = 8;
    int64_t bytes() const { return bits == 4 ? rows * ((row_length + 1) / 2) : rows * row_length; }
};
WeightLayout WeightLayoutOf(const Graph& graph, int layer);

// The bytes of `layer`'s weight array in the firmware (before its int32
// tables and before padding to 4): SparseWeightBytes when KernelOf chooses a
// sparse kernel, else WeightLayoutOf's bytes. The code generator emits exactly
// this many.
int64_t StoredWeightBytes(const Graph& graph, int layer);

// `board`: the catalogue board type whose firmware the flash figure is for.
CostReport ComputeCost(const Graph& graph, PlanStrategy strategy = PlanStrategy::kBest,
                       const ScratchFn& scratch = RuntimeScratchBytes,
                       std::string_view board = kDefaultFlashBoard);

// One JSON object with the totals, plus "layers" rows when asked.
std::string CostReportToJson(const Graph& graph, const CostReport& report, bool with_layers);

}  // namespace hilnas::arch
