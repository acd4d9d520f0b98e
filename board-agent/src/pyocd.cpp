// Flashing through pyOCD: one `pyocd` run per step, the probe chosen by its
// unique ID, the target type from the board catalogue.
#include <memory>
#include <vector>

#include "flash_tool.h"
#include "hilnas/agent/flasher.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

using internal::FaultRule;

// pyOCD's failure lines, and where each comes from. pyOCD prints probe
// selection messages on stdout and logs the rest on stderr as
// "<ms> <level> <message> [<module>]".
constexpr FaultRule kPyOcdRules[] = {
    // pyocd/core/helpers.py, ConnectHelper.choose_probe: -u matches as a
    // substring, so a short uid can match several probes. Before the
    // not-found rules: load_cmd.py then logs "No target device available" too.
    {FlashFault::kAmbiguousProbe, "More than one debug probe matches"},
    {FlashFault::kProbeNotFound, "No connected debug probe matches unique ID"},
    // load_cmd.py / reset_cmd.py when no session could be made.
    {FlashFault::kProbeNotFound, "No target device available"},
    // The MCU does not answer: CMSIS-DAP (probe/pydapaccess), ST-LINK status
    // codes 9 and 5 (probe/stlink/constants.py).
    {FlashFault::kTargetNotResponding, "No ACK received"},
    {FlashFault::kTargetNotResponding, "Get IDCODE error"},
    {FlashFault::kTargetNotResponding, "No device connected"},
    // pyocd/flash/flash.py: the flash algorithm refused to erase or program.
    // On STM32 that is write protection (WRP) or read-out protection.
    {FlashFault::kFlashProtected, "flash erase sector failure"},
    {FlashFault::kFlashProtected, "flash program page failure"},
    // pyocd/flash/builder.py's read-back after programming.
    {FlashFault::kVerifyFailed, "flash verify failure"},
};

class PyOcdFlasher : public Flasher {
  public:
    explicit PyOcdFlasher(PyOcdOptions options)
        : options_(std::move(options)),
          call_{"pyocd", options_.uid, options_.timeout, kPyOcdRules} {}

    void Flash(const std::string& elf) override {
        const std::string path = internal::CheckElf(call_, elf);
        internal::RunWithConnectUnderReset(
            call_, [&](bool under_reset) { return Argv("flash", under_reset, path); });
    }

    void Reset() override {
        internal::RunWithConnectUnderReset(
            call_, [&](bool under_reset) { return Argv("reset", under_reset, {}); });
    }

    std::string ToolVersion() override {
        const ProcessResult result = internal::RunTool(call_, {options_.pyocd, "--version"});
        internal::ThrowIfFailed(call_, result);
        return internal::FirstLine(result);
    }

    std::string name() const override { return "pyocd"; }

  private:
    // --no-wait: without it pyOCD waits for an absent probe until our time-out.
    // --format elf: pyOCD picks the format from the file name's extension, and
    // an artifact's name need not end in ".elf" (CheckElf read its header).
    std::vector<std::string> Argv(const std::string& subcommand, bool under_reset,
                                  const std::string& elf) const {
        std::vector<std::string> argv = {options_.pyocd, subcommand,   "-t",       options_.target,
                                         "-u",           options_.uid, "--no-wait"};
        if (under_reset) {
            argv.push_back("-M");
            argv.push_back("under-reset");
        }
        if (!elf.empty()) {
            argv.push_back("--format");
            argv.push_back("elf");
            argv.push_back(elf);
        }
        return argv;
    }

    PyOcdOptions options_;
    internal::ToolCall call_;
};

}  // namespace

std::unique_ptr<Flasher> MakePyOcdFlasher(PyOcdOptions options) {
    internal::CheckProbeSerial(options.uid, "uid");
    if (options.target.empty()) {
        throw InvalidArgument("the board's pyOCD target type is required", "target");
    }
    if (options.pyocd.empty()) throw InvalidArgument("the pyOCD binary is required", "pyocd");
    return std::make_unique<PyOcdFlasher>(std::move(options));
}

}  // namespace hilnas::agent
