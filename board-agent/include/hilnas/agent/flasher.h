// Flashing a real board through its debug probe, by running OpenOCD or pyOCD.
//
// A flasher is bound to one probe, named by its serial number (never "the
// first probe found": a farm host has many), and to one target type from the
// board catalogue (services/catalog boards.h: openocd_interface,
// openocd_target, pyocd_target). Every tool call runs under a time-out.
// Failures are FlashError: what went wrong (FlashFault) and the tool's last
// lines, read from its real messages.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hilnas/common/errors.h"

namespace hilnas::agent {

enum class FlashFault {
    kProbeNotFound,        // no probe with that serial is connected (or it cannot be opened)
    kAmbiguousProbe,       // more than one probe matches the serial
    kTargetNotResponding,  // the probe is there, the MCU does not answer on SWD
    kFlashProtected,       // erase or program refused: write or read-out protection
    kVerifyFailed,         // flash content differs from the ELF after programming
    kTimeout,              // the tool ran past the time-out and was killed
    kToolMissing,          // the tool's binary is not installed (or not executable)
    kBadElf,               // the ELF is missing, unreadable or not a 32-bit ARM ELF
    kOther,                // anything else: the output tail says what
};

// "probe-not-found", "ambiguous-probe", "target-not-responding",
// "flash-protected", "verify-failed", "timeout", "tool-missing", "bad-elf",
// "other".
const char* FlashFaultName(FlashFault fault);

// A flashing step failed. what() reads like "openocd: target not responding
// (probe 066DFF...): Error: init mode failed (unable to connect to the
// target)": the tool, the cause, the probe and the tool line that told.
class FlashError : public Unavailable {
  public:
    FlashError(FlashFault fault, std::string message, std::string output_tail);

    FlashFault fault() const { return fault_; }
    // The tool's last lines (at most ~15; stdout, then stderr), for the
    // failure reason a job keeps.
    const std::string& output_tail() const { return output_tail_; }

  private:
    FlashFault fault_;
    std::string output_tail_;
};

class Flasher {
  public:
    virtual ~Flasher() = default;
    // Programs `elf` (a path), verifies it and resets the board into the new
    // firmware. When the target does not respond, retries once connecting
    // under reset (NRST held while the probe attaches: firmware that sleeps
    // or remaps the SWD pins cannot lock the probe out). Throws FlashError.
    virtual void Flash(const std::string& elf) = 0;
    // Resets the board and lets it run, with the same one retry. Throws FlashError.
    virtual void Reset() = 0;
    // The first line of `<tool> --version`, for provenance. Throws FlashError.
    virtual std::string ToolVersion() = 0;
    // "openocd" | "pyocd".
    virtual std::string name() const = 0;
};

struct OpenOcdOptions {
    std::string openocd = "openocd";  // the binary; looked up in PATH without a '/'
    std::string probe_serial;         // required: `adapter serial` (hex form for ST-LINK/V2)
    std::string interface_cfg;        // required, e.g. "interface/stlink.cfg"
    std::string target_cfg;           // required, e.g. "target/stm32f4x.cfg"
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // per tool call
};

// Runs `openocd -f <interface_cfg> -c "adapter serial <serial>" -f <target_cfg>
// -c "program {<elf>} verify reset exit"` (`-c "init; reset run; shutdown"` to
// reset); the retry adds `-c "reset_config srst_only srst_nogate
// connect_assert_srst"` after the target script, which needs NRST wired to the
// probe. Throws InvalidArgument naming the field for an empty probe_serial,
// interface_cfg or target_cfg, or a serial with characters other than letters,
// digits and "-_.:".
std::unique_ptr<Flasher> MakeOpenOcdFlasher(OpenOcdOptions options);

struct PyOcdOptions {
    std::string pyocd = "pyocd";  // the binary; looked up in PATH without a '/'
    std::string uid;              // required: the probe's unique ID (`pyocd list`)
    std::string target;           // required, e.g. "stm32f446retx"
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // per tool call
};

// Runs `pyocd flash -t <target> -u <uid> --no-wait --format elf <elf>`
// (`pyocd reset -t <target> -u <uid> --no-wait` to reset; the retry adds
// `-M under-reset` after --no-wait). pyOCD resets the board after
// programming, and recent versions read the pages back ("flash verify
// failure" is kVerifyFailed). --no-wait: an absent probe is an error now, not
// a wait until the time-out. pyOCD matches the uid as a substring, so a uid
// matching two probes is kAmbiguousProbe. Throws InvalidArgument naming the
// field for an empty uid or target, or a uid with characters other than
// letters, digits and "-_.:".
std::unique_ptr<Flasher> MakePyOcdFlasher(PyOcdOptions options);

}  // namespace hilnas::agent
