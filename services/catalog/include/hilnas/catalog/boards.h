// The board catalogue: the one owner of what hilnas knows about each board
// type. The controller (job validation, energy estimates), the firmware build
// and the board agent (flashing, energy) all read it; nothing else lists
// boards. Adding a board type is one entry in src/boards.cpp plus its folder
// in firmware/boards/ (README: "Adding a board type").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hilnas::catalog {

// The board type used when none is named: a job's `board_type`, the board of
// an agent without an inventory, and the flash prediction's default. The
// emulated STM32F405, which every machine can run.
inline constexpr std::string_view kDefaultBoardType = "qemu-netduinoplus2";

struct BoardType {
    std::string name;         // e.g. "nucleo-f446re"; the folder in firmware/boards/
    std::string mcu;          // e.g. "STM32F446RE"
    std::string core;         // "cortex-m4f", "cortex-m7"
    int64_t cpu_hz = 0;       // the clock firmware/boards sets up
    int64_t flash_bytes = 0;  // as the board's linker script gives it
    int64_t sram_bytes = 0;   // RAM the firmware may use (the linker script's RAM region)
    // Debuggers.
    std::string openocd_interface;  // e.g. "interface/stlink.cfg"; empty: not flashable by OpenOCD
    std::string openocd_target;     // e.g. "target/stm32f4x.cfg"
    std::string pyocd_target;       // e.g. "stm32f446retx"; empty: not flashable by pyOCD
    std::string qemu_machine;       // e.g. "netduinoplus2"; empty: no emulation
    // Energy estimates (MicroNets: MCU power is nearly constant while it
    // computes, so energy ~ supply voltage x run current x latency).
    double supply_v = 3.3;
    double run_current_ma = 0;       // the datasheet's typical run current at cpu_hz
    std::string run_current_source;  // where run_current_ma comes from
    // MLPerf Tiny energy mode: the GPIO the harness pulls low for a timestamp.
    std::string timestamp_pin;  // e.g. "PA8 (Arduino D7)"; empty: no energy mode

    bool emulated() const { return !qemu_machine.empty(); }
    // Estimated power while computing, in milliwatts.
    double run_power_mw() const { return supply_v * run_current_ma; }
};

// Every board type, in a fixed order.
const std::vector<BoardType>& BoardTypes();

// The board type called `name`. Throws InvalidArgument on `field`, listing the
// known names, for anything else.
const BoardType& FindBoardType(const std::string& name, const std::string& field = "board_type");

// "qemu-netduinoplus2, nucleo-f446re, ..." for messages.
std::string BoardTypeNames();

// Energy estimate in microjoules for `latency_ms` on `board`:
// supply_v x run_current_ma x latency_ms (mW x ms = uJ). Never 0 for a
// positive latency.
double EstimatedEnergyUj(const BoardType& board, double latency_ms);

}  // namespace hilnas::catalog
