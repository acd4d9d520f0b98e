// A lab host's boards, from YAML. Each board is named by its id and matched
// to hardware by its debug probe's serial: never "the first probe found".
//
//   agent_id: lab1-rack2          # optional; default: the host name
//   boards:
//     - id: f446-a                # unique in the farm
//       type: nucleo-f446re       # a board type of the catalogue
//       debugger: openocd         # openocd | pyocd | qemu
//       probe_serial: 066DFF485457725187092531   # required for openocd and pyocd
//       serial_port: /dev/serial/by-id/usb-STMicroelectronics_STM32_STLink_066DFF...-if02
//       baud: 115200              # default 115200
//       meter: {type: lpm01a, port: /dev/ttyACM1, baud: 3686400}   # optional
//       timeouts: {flash: 60s, boot: 10s, command: 60s}             # optional
//     - id: qemu-0
//       type: qemu-netduinoplus2
//       debugger: qemu
//       icount_shift: 3           # qemu only; default 3
//
// Optional per board: openocd / pyocd / qemu (the tool's path, when it is
// not on PATH). Unknown keys are errors, so a typo never goes unnoticed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hilnas/v1/farm_service.pb.h"

namespace hilnas::agent {

struct MeterConfig {
    std::string type;  // "" (none) or "lpm01a"
    std::string port;
    int baud = 3686400;
};

struct BoardConfig {
    std::string id;
    std::string type;      // catalogue board type
    std::string debugger;  // openocd | pyocd | qemu
    std::string probe_serial;
    std::string serial_port;
    int baud = 115200;
    MeterConfig meter;
    int icount_shift = 3;
    std::string openocd = "openocd";
    std::string pyocd = "pyocd";
    std::string qemu = "qemu-system-arm";
    std::chrono::milliseconds flash_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds boot_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds command_timeout{std::chrono::seconds(60)};
};

struct Inventory {
    std::string agent_id;  // empty: the caller picks one (the host name)
    std::vector<BoardConfig> boards;
};

// Parses and validates an inventory. Throws InvalidArgument whose field is
// the path of the offending key, e.g. "boards[1].probe_serial: is required for
// debugger openocd (never the first probe found)".
Inventory ParseInventory(const std::string& yaml_text);
// As ParseInventory, for a file; a missing or unreadable file is InvalidArgument on "inventory".
Inventory LoadInventory(const std::string& path);
// One emulated board: {id: qemu-0, type: qemu-netduinoplus2, debugger: qemu}.
Inventory DefaultInventory();

// The board as FarmService.RegisterAgent takes it.
v1::Board ToProto(const BoardConfig& board);

}  // namespace hilnas::agent
