// Flashing through OpenOCD (0.12): one `openocd` run per step, the probe
// chosen by `adapter serial`, the interface and target scripts from the board
// catalogue.
#include <memory>
#include <vector>

#include "flash_tool.h"
#include "hilnas/agent/flasher.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

using internal::FaultRule;

// OpenOCD's failure lines, and where each comes from. A line alone is not a
// failure: "checksum mismatch - attempting binary compare" precedes many a
// "Verified OK", so only the exit status says a run failed and these say why.
constexpr FaultRule kOpenOcdRules[] = {
    // src/helper/fileio.c, from `program`'s flash write_image.
    {FlashFault::kBadElf, "couldn't open"},
    // The probe: ST-LINK (src/jtag/drivers/stlink_usb.c, after
    // libusb_helper.c's "No device matches the serial string"), CMSIS-DAP
    // (cmsis_dap.c), J-Link (jlink.c).
    {FlashFault::kProbeNotFound, "No device matches the serial string"},
    {FlashFault::kProbeNotFound, "Error: open failed"},
    {FlashFault::kProbeNotFound, "unable to find a matching CMSIS-DAP device"},
    {FlashFault::kProbeNotFound, "No J-Link device found"},
    // The MCU does not answer: ST-LINK's HLA mode (stlink_usb.c), SWD through
    // any DAP (src/target/adi_v5_swd.c).
    {FlashFault::kTargetNotResponding, "init mode failed (unable to connect to the target)"},
    {FlashFault::kTargetNotResponding, "Error connecting DP"},
    // Write protection: "stm32x device protected" (src/flash/nor/stm32f2x.c,
    // stm32f1x.c, stm32l4x.c).
    {FlashFault::kFlashProtected, "device protected"},
    // The `program` procedure's verdict (startup.tcl).
    {FlashFault::kVerifyFailed, "** Verify Failed **"},
};

// Holds NRST while the probe attaches, so firmware that sleeps or takes the
// SWD pins cannot lock the probe out. After the target script, which sets its
// own reset_config.
constexpr const char* kConnectUnderReset = "reset_config srst_only srst_nogate connect_assert_srst";

class OpenOcdFlasher : public Flasher {
  public:
    explicit OpenOcdFlasher(OpenOcdOptions options)
        : options_(std::move(options)),
          call_{"openocd", options_.probe_serial, options_.timeout, kOpenOcdRules} {}

    void Flash(const std::string& elf) override {
        const std::string path = internal::CheckElf(call_, elf);
        // Braces quote the path for OpenOCD's Tcl; these would end the quoting.
        if (path.find_first_of("{}\\\n\r") != std::string::npos) {
            throw FlashError(FlashFault::kBadElf,
                             "openocd: bad ELF (probe " + options_.probe_serial + "): '" + path +
                                 "': a path with braces, backslashes or newlines cannot be "
                                 "passed to OpenOCD",
                             "");
        }
        internal::RunWithConnectUnderReset(call_, [&](bool under_reset) {
            return Argv(under_reset, "program {" + path + "} verify reset exit");
        });
    }

    void Reset() override {
        internal::RunWithConnectUnderReset(call_, [&](bool under_reset) {
            return Argv(under_reset, "init; reset run; shutdown");
        });
    }

    std::string ToolVersion() override {
        const ProcessResult result = internal::RunTool(call_, {options_.openocd, "--version"});
        internal::ThrowIfFailed(call_, result);
        return internal::FirstLine(result);
    }

    std::string name() const override { return "openocd"; }

  private:
    // `adapter serial` goes after the interface script: that script selects
    // the adapter driver the serial applies to (OpenOCD 0.12 accepts it either
    // side, older releases' hla_serial only after).
    std::vector<std::string> Argv(bool under_reset, const std::string& command) const {
        std::vector<std::string> argv = {options_.openocd,
                                         "-f",
                                         options_.interface_cfg,
                                         "-c",
                                         "adapter serial " + options_.probe_serial,
                                         "-f",
                                         options_.target_cfg};
        if (under_reset) {
            argv.push_back("-c");
            argv.push_back(kConnectUnderReset);
        }
        argv.push_back("-c");
        argv.push_back(command);
        return argv;
    }

    OpenOcdOptions options_;
    internal::ToolCall call_;
};

}  // namespace

std::unique_ptr<Flasher> MakeOpenOcdFlasher(OpenOcdOptions options) {
    internal::CheckProbeSerial(options.probe_serial, "probe_serial");
    if (options.interface_cfg.empty()) {
        throw InvalidArgument("the probe's OpenOCD interface script is required", "interface_cfg");
    }
    if (options.target_cfg.empty()) {
        throw InvalidArgument("the board's OpenOCD target script is required", "target_cfg");
    }
    if (options.openocd.empty()) throw InvalidArgument("the OpenOCD binary is required", "openocd");
    return std::make_unique<OpenOcdFlasher>(std::move(options));
}

}  // namespace hilnas::agent
