// The firmware's flash for a model, predicted per board and runtime variant:
// .text (with the vector table and unwind index) + .rodata + .data of the ELF
// that `hilnas firmware build` links and a board agent measures.
//
// What goes into the ELF is known piece by piece, and each piece's size comes
// from real builds (hilnas-calibrate-flash, which writes flash_calibration.inc):
//   base      startup, the harness, the board support, newlib's and libgcc's
//             pieces, alignment fill: the same for every model;
//   runtime   every function section of the int8 runtime the linker keeps.
//             A section is kept when any kernel that reaches it is called
//             (--gc-sections keeps what is reachable), so each carries the set
//             of kernels that pull it in, learnt from which builds kept it;
//   model     model.c: its weight arrays exactly (each aligned to 4 bytes:
//             weights, int32 bias, multiplier and shift per output channel),
//             the model's name, and per layer its parameter structs and its
//             call in model_invoke(), a constant per kernel.
// flash_calibration_test rebuilds sampled models for every board and fails
// when the prediction drifts past 3%.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/arch/kernels.h"
#include "hilnas/arch/model.h"
#include "hilnas/arch/space.h"
#include "hilnas/catalog/boards.h"

namespace hilnas::arch {

// A runtime function section ("nn_support.c:.text.nn_mat_mult_s8"), kept
// when a kernel in `kernels` (bit 1 << Kernel) is called; 0: always kept.
struct FlashPiece {
    const char* name;
    int64_t bytes;
    uint32_t kernels;
};

struct FlashCalibration {
    const char* board;    // a catalogue board type
    const char* runtime;  // "cortex_m" or "reference"
    int64_t base_bytes;
    int64_t model_bytes;                            // model.c besides its layers and its name
    std::array<int64_t, kKernelCount> layer_bytes;  // model.c per layer besides its arrays
    const FlashPiece* pieces;
    int piece_count;
    int builds;             // the calibration builds it was learnt from
    const char* toolchain;  // arm-none-eabi-gcc's version line
};

// The calibration of `board` and `runtime`; InvalidArgument naming "board"
// when there is none.
const FlashCalibration& FindFlashCalibration(std::string_view board,
                                             std::string_view runtime = "cortex_m");

struct FlashPrediction {
    int64_t base_bytes = 0;
    int64_t runtime_bytes = 0;       // the kept runtime sections
    int64_t model_code_bytes = 0;    // model.c besides its weight arrays
    int64_t weight_array_bytes = 0;  // weights, bias, multiplier, shift, each aligned to 4
    int64_t total_bytes = 0;
};

// `kernels`: per layer, the kernel the firmware calls (the memory plan's
// MemoryPlan::kernels, which the code generator follows).
FlashPrediction PredictFlash(const Graph& graph, const std::vector<Kernel>& kernels,
                             const FlashCalibration& calibration);

// The space the calibration and its test sample models from: every block
// kind, 1×1 to 5×5 kernels, 4- and 8-bit weights, every pooling, so that every
// kernel is both called and left out.
SearchSpace FlashCalibrationSpace();

// A model for the calibration and its test: BuildModel of a sample of
// FlashCalibrationSpace named `name`, with about one in three of its 8-bit
// conv and dense layers given nonzero_weights of 5% to 60% of their weights,
// so that the sparse kernels are both called and left out.
Model FlashCalibrationModel(std::mt19937_64& rng, const std::string& name);

// The board a prediction uses when none is named: the catalogue's default.
inline constexpr std::string_view kDefaultFlashBoard = catalog::kDefaultBoardType;

}  // namespace hilnas::arch
