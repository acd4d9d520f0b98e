// Building firmware for a board: generate the model's C, cross-compile it
// with the harness, the board support and the runtime (firmware/target), and
// read the ELF's section sizes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "hilnas/v1/artifact.pb.h"

namespace hilnas::firmware {

// The boards firmware/boards supports.
const std::vector<std::string>& Boards();

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
    std::string board;                         // a folder of firmware/boards
    std::string out_dir;                       // everything goes here, nothing elsewhere
    std::string runtime_variant = "cortex_m";  // or "reference"
    std::string firmware_dir;                  // empty: $HILNAS_FIRMWARE_DIR, else this checkout's
    std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct FirmwareBuild {
    std::string elf;  // out_dir/build/hilnas-fw.elf
    ElfSizes sizes;
    int64_t arena_bytes = 0;  // the planner's, as generated
    std::string toolchain;    // e.g. "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205"
};

// Throws InvalidArgument for an unknown board or a bad artifact, Unavailable
// when the toolchain is missing or the build fails (with the compiler's
// last lines).
FirmwareBuild BuildFirmware(const v1::Int8Model& model, const BuildOptions& options);

}  // namespace hilnas::firmware
