// Building firmware for a board: generate the model's C, cross-compile it
// with the harness, the board support and the runtime (firmware/target), and
// read the ELF's section sizes. The boards are the catalogue's
// (hilnas/catalog/boards.h: BoardTypes(), FindBoardType()).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "hilnas/v1/artifact.pb.h"

namespace hilnas::firmware {

struct ElfSizes {
    int64_t isr_vector = 0, text = 0, rodata = 0, exidx = 0, data = 0, bss = 0, stack = 0;
    // Flash holds the vectors, code, constants and the initial values of .data.
    int64_t flash_bytes() const { return isr_vector + text + rodata + exidx + data; }
    // Static RAM: .data, .bss (the arena is in it) and the reserved stack.
    int64_t static_ram_bytes() const { return data + bss + stack; }
};

// Parses `arm-none-eabi-size -A -d` output; throws InvalidArgument if a section is missing.
ElfSizes ParseSizeOutput(const std::string& text);

struct BuildOptions {
    std::string board;    // a catalogue board type (its firmware/boards folder)
    std::string out_dir;  // everything goes here, nothing elsewhere
    std::string runtime_variant = "cortex_m";  // or "reference"
    std::string firmware_dir;                  // empty: $HILNAS_FIRMWARE_DIR, else this checkout's
    // MLPerf Tiny energy mode: timestamps are falling edges on the board's
    // timestamp pin (the catalogue's BoardType::timestamp_pin) instead of
    // m-lap-us lines, and nothing is printed between infer's two timestamps.
    // Only boards with a timestamp pin (not the emulated one).
    bool energy_mode = false;
    // false: no layer runs in place, each calls its ordinary kernel (a larger
    // arena than the cost model's): only for the kernel benchmark, which
    // measures both kernels of a shape.
    bool in_place_layers = true;
    // true: the layers for which arch::KernelOf chooses a sparse kernel (8-bit
    // conv and dense weights that the runtime's sparse layout stores in fewer
    // bytes, by their exact nonzero_weights) are stored so and call
    // nn_convolve_sparse_s8 / nn_fully_connected_sparse_s8, as the cost model
    // counts. false: every layer dense, which the cost model does not predict:
    // only for the kernel benchmark, which measures sparse against dense.
    bool sparse_weights = true;
    // TEST ONLY, for the agent's robustness tests; never for measurements.
    //   ""               no fault
    //   "hang-on-infer"  infer spins forever after m-infer-start: the board
    //                    stops answering, as a crashed model would
    //   "wrong-output"   one bit of the reported output is flipped
    std::string fault;
    std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

// The firmware sources a build uses: `configured`, else $HILNAS_FIRMWARE_DIR,
// else this checkout's firmware/.
std::string FirmwareSourceDir(const std::string& configured = {});

struct FirmwareBuild {
    std::string elf;  // out_dir/build/hilnas-fw.elf
    ElfSizes sizes;
    int64_t arena_bytes = 0;     // the planner's, as generated
    int64_t weight_bytes = 0;    // weights, biases, requantisation, as generated (unpadded)
    double codegen_seconds = 0;  // generating the model's C (the rest is compiling)
    std::string toolchain;       // e.g. "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205"
};

// Throws InvalidArgument for an unknown board ("board"), energy_mode on a
// board without a timestamp pin ("energy_mode"), an unknown fault ("fault"),
// or a bad artifact; Unavailable when the toolchain is missing or the build
// fails (with the compiler's last lines).
FirmwareBuild BuildFirmware(const v1::Int8Model& model, const BuildOptions& options);

}  // namespace hilnas::firmware
