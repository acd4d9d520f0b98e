// A board of the inventory, ready to run firmware: it loads an ELF (flashes a
// real board through its debug probe, or starts QEMU with it), hands back the
// serial link to the running firmware, and recovers from a hang (reset, or
// QEMU killed). Every step runs under the board's time-outs.
#pragma once

#include <memory>
#include <string>

#include "hilnas/agent/dut.h"
#include "hilnas/agent/inventory.h"

namespace hilnas::agent {

class BoardConnection {
  public:
    virtual ~BoardConnection() = default;
    // Loads `elf` and starts it; returns the link to its serial port, the boot
    // line ("m-ready") not yet read. Throws Unavailable (FlashError for a
    // probe's failure) when the board cannot be brought up.
    virtual SerialLink& Start(const std::string& elf) = 0;
    // After a hang or a failure: leaves the board ready for the next Start
    // (a reset; for QEMU, the process is killed).
    virtual void Recover() = 0;
    // "qemu" | "openocd" | "pyocd" and the tool's version line, for provenance.
    virtual std::string debugger() const = 0;
    virtual std::string DebuggerVersion() = 0;
};

// The connection for `board`'s debugger. Throws InvalidArgument for a board
// the catalogue cannot drive.
std::unique_ptr<BoardConnection> Connect(const BoardConfig& board);

class EnergyMeter;
// The board's energy meter, connected and configured (the catalogue's supply
// voltage); nullptr when it has none. Throws Unavailable when the meter
// cannot be reached.
std::unique_ptr<EnergyMeter> ConnectMeter(const BoardConfig& board);

}  // namespace hilnas::agent
