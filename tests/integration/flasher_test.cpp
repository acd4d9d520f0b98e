// The debug-probe drivers against stand-ins for OpenOCD and pyOCD
// (tests/data/standins): each stand-in records the arguments it was given and
// replays a recorded run of the real tool (its output and exit status). Where
// each recording comes from, the real binary or the tool's source, is in
// tests/data/standins/README.md; the line each test expects is quoted below
// with its origin. The probe listing runs on a recorded `pyocd list` and a
// fake sysfs tree.
#include <stdlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hilnas/agent/flasher.h"
#include "hilnas/agent/probes.h"
#include "hilnas/common/errors.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

using Argv = std::vector<std::string>;

constexpr const char* kSerial = "066DFF555185754867243330";  // a NUCLEO's ST-LINK/V2-1
constexpr const char* kInterface = "interface/stlink.cfg";
constexpr const char* kTarget = "target/stm32f4x.cfg";
constexpr const char* kPyOcdTarget = "stm32f446retx";
constexpr const char* kUnderReset = "reset_config srst_only srst_nogate connect_assert_srst";

// The smallest 32-bit little-endian ELF header for `machine` (40: ARM, 62: x86-64).
std::string ElfHeader(uint16_t machine) {
    std::string header(52, '\0');
    header[0] = '\x7f';
    header[1] = 'E';
    header[2] = 'L';
    header[3] = 'F';
    header[4] = 1;   // ELFCLASS32
    header[5] = 1;   // ELFDATA2LSB
    header[6] = 1;   // EV_CURRENT
    header[16] = 2;  // ET_EXEC
    header[18] = static_cast<char>(machine & 0xff);
    header[19] = static_cast<char>(machine >> 8);
    header[20] = 1;  // e_version
    return header;
}

class StandinTest : public ::testing::Test {
  protected:
    void SetUp() override {
        argv_file_ = dir_ / "argv";
        ::setenv("HILNAS_STANDIN_ARGV_FILE", argv_file_.c_str(), 1);
        elf_ = dir_.Write("firmware.elf", ElfHeader(40));
    }
    void TearDown() override {
        ::unsetenv("HILNAS_STANDIN_ARGV_FILE");
        ::unsetenv("HILNAS_STANDIN_SCENARIO");
    }

    // The stand-in's n-th call replays the n-th recording (the last repeats).
    static void Replay(const std::string& recordings) {
        ::setenv("HILNAS_STANDIN_SCENARIO", recordings.c_str(), 1);
    }

    // The arguments of every call the stand-in received, argv[0] left out.
    std::vector<Argv> Calls() const {
        std::vector<Argv> calls;
        std::ifstream in(argv_file_);
        std::string line;
        while (std::getline(in, line)) {
            Argv argv;
            std::istringstream args(line);
            std::string arg;
            while (std::getline(args, arg, '\x1f')) argv.push_back(arg);
            calls.push_back(argv);
        }
        return calls;
    }

    static std::string Standin(const std::string& tool) {
        return testing::SourcePath("tests/data/standins/" + tool);
    }

    std::unique_ptr<Flasher> OpenOcd(std::chrono::milliseconds timeout = 30s) const {
        OpenOcdOptions options;
        options.openocd = Standin("openocd");
        options.probe_serial = kSerial;
        options.interface_cfg = kInterface;
        options.target_cfg = kTarget;
        options.timeout = timeout;
        return MakeOpenOcdFlasher(options);
    }

    std::unique_ptr<Flasher> PyOcd(const std::string& uid = kSerial,
                                   std::chrono::milliseconds timeout = 30s) const {
        PyOcdOptions options;
        options.pyocd = Standin("pyocd");
        options.uid = uid;
        options.target = kPyOcdTarget;
        options.timeout = timeout;
        return MakePyOcdFlasher(options);
    }

    // What `step` threw; fails the test when it threw nothing or something else.
    template <typename Step>
    static FlashError Failure(Step step) {
        try {
            step();
        } catch (const FlashError& e) {
            return e;
        }
        ADD_FAILURE() << "expected a FlashError";
        return FlashError(FlashFault::kOther, "", "");
    }

    static Argv OpenOcdArgv(const std::string& command, bool under_reset = false) {
        Argv argv = {"-f", kInterface, "-c", std::string("adapter serial ") + kSerial,
                     "-f", kTarget};
        if (under_reset) argv.insert(argv.end(), {"-c", kUnderReset});
        argv.insert(argv.end(), {"-c", command});
        return argv;
    }

    Argv OpenOcdFlashArgv(bool under_reset = false) const {
        return OpenOcdArgv("program {" + elf_ + "} verify reset exit", under_reset);
    }

    Argv PyOcdFlashArgv(bool under_reset = false) const {
        Argv argv = {"flash", "-t", kPyOcdTarget, "-u", kSerial, "--no-wait"};
        if (under_reset) argv.insert(argv.end(), {"-M", "under-reset"});
        argv.insert(argv.end(), {"--format", "elf", elf_});
        return argv;
    }

    testing::TempDir dir_;
    std::string argv_file_;
    std::string elf_;
};

size_t LineCount(const std::string& text) {
    return text.empty() ? 0 : 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// ---------------------------------------------------------------------------
// OpenOCD

using OpenOcdTest = StandinTest;

TEST_F(OpenOcdTest, FlashProgramsVerifiesAndResetsThroughTheNamedProbe) {
    Replay("program-ok");
    OpenOcd()->Flash(elf_);
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdFlashArgv()));
}

TEST_F(OpenOcdTest, ResetRunsTheBoardThroughTheNamedProbe) {
    Replay("reset-ok");
    OpenOcd()->Reset();
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdArgv("init; reset run; shutdown")));
}

TEST_F(OpenOcdTest, ToolVersionIsTheFirstLineOfVersionOnStderr) {
    // `openocd --version` (Debian's 0.12.0) prints on stderr.
    Replay("version");
    auto flasher = OpenOcd();
    EXPECT_EQ(flasher->ToolVersion(), "Open On-Chip Debugger 0.12.0");
    EXPECT_EQ(flasher->name(), "openocd");
    EXPECT_THAT(Calls(), ElementsAre(Argv{"--version"}));
}

struct FaultCase {
    const char* recording;
    FlashFault fault;
    const char* cause;  // in what()
    const char* line;   // the tool's line that told, in what() and the output tail
    size_t calls;       // 2 when the connect-under-reset retry runs
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.recording; }

std::string CaseName(const ::testing::TestParamInfo<FaultCase>& info) {
    std::string name = info.param.recording;
    for (char& c : name) {
        if (c == '-') c = '_';
    }
    return name;
}

class OpenOcdFaultTest : public StandinTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(OpenOcdFaultTest, FlashFailureNamesTheCauseAndKeepsTheToolsLines) {
    const FaultCase& c = GetParam();
    Replay(c.recording);
    const FlashError e = Failure([&] { OpenOcd()->Flash(elf_); });
    EXPECT_EQ(e.fault(), c.fault) << FlashFaultName(e.fault());
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_THAT(e.what(), HasSubstr(std::string("openocd: ") + c.cause));
    EXPECT_THAT(e.what(), HasSubstr(std::string("(probe ") + kSerial + "): " + c.line));
    EXPECT_THAT(e.output_tail(), HasSubstr(c.line));
    EXPECT_LE(LineCount(e.output_tail()), 15u);
    const std::vector<Argv> calls = Calls();
    ASSERT_EQ(calls.size(), c.calls);
    EXPECT_EQ(calls[0], OpenOcdFlashArgv());
}

INSTANTIATE_TEST_SUITE_P(
    RecordedRuns, OpenOcdFaultTest,
    ::testing::Values(
        // Real: `openocd -f interface/stlink.cfg -c "adapter serial 066D..." -f
        // target/stm32f4x.cfg -c "program ..."` with no probe attached.
        FaultCase{"no-probe-stlink", FlashFault::kProbeNotFound, "probe not found",
                  "Error: open failed", 1},
        // Source: src/jtag/drivers/libusb_helper.c jtag_libusb_open(), when an
        // ST-LINK with another serial is plugged in; then stlink_usb.c's line.
        FaultCase{"no-probe-other-serial", FlashFault::kProbeNotFound, "probe not found",
                  "Info : No device matches the serial string", 1},
        // Real: the same with interface/cmsis-dap.cfg.
        FaultCase{"no-probe-cmsis-dap", FlashFault::kProbeNotFound, "probe not found",
                  "Error: unable to find a matching CMSIS-DAP device", 1},
        // Real: the same with interface/jlink.cfg.
        FaultCase{"no-probe-jlink", FlashFault::kProbeNotFound, "probe not found",
                  "Error: No J-Link device found", 1},
        // Source: src/jtag/drivers/stlink_usb.c, stlink_open(); the run is
        // retried under reset, and the same line comes back.
        FaultCase{"target-not-responding", FlashFault::kTargetNotResponding,
                  "target not responding after a connect-under-reset retry",
                  "Error: init mode failed (unable to connect to the target)", 2},
        // Source: src/target/adi_v5_swd.c, swd_connect(); log of a CMSIS-DAP probe
        // on an unpowered target (wuxx/pico-lab README).
        FaultCase{"target-not-responding-cmsis-dap", FlashFault::kTargetNotResponding,
                  "target not responding after a connect-under-reset retry",
                  "Error: Error connecting DP: cannot read IDR", 2},
        // Source: src/flash/nor/stm32f2x.c, stm32x_wait_status_busy() on WRPERR,
        // then src/flash/nor/core.c "failed erasing sectors %u to %u".
        FaultCase{"flash-protected", FlashFault::kFlashProtected, "flash protected",
                  "Error: stm32x device protected", 1},
        // Source: src/target/target.c verify_image ("checksum mismatch", "diff N
        // address ...") and the `program` procedure in OpenOCD 0.12's startup.tcl.
        FaultCase{"verify-failed", FlashFault::kVerifyFailed, "verify failed",
                  "** Verify Failed **", 1},
        // Real: OpenOCD 0.12 on its dummy adapter, `program {/tmp/fl/gone/firmware.elf}`.
        FaultCase{"couldnt-open-elf", FlashFault::kBadElf, "bad ELF",
                  "Error: couldn't open /tmp/fl/gone/firmware.elf", 1},
        // Real: `-f target/nope.cfg`.
        FaultCase{"missing-target-cfg", FlashFault::kOther, "failed (exited with status 1)",
                  "embedded:startup.tcl:28: Error: Can't find target/nope.cfg", 1}),
    CaseName);

TEST_F(OpenOcdTest, TargetNotRespondingIsRetriedOnceConnectingUnderReset) {
    Replay("target-not-responding,program-ok");
    OpenOcd()->Flash(elf_);
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdFlashArgv(), OpenOcdFlashArgv(/*under_reset=*/true)));
}

TEST_F(OpenOcdTest, TheRetrysFailureIsTheOneReported) {
    Replay("target-not-responding,target-not-responding-under-reset");
    const FlashError e = Failure([&] { OpenOcd()->Flash(elf_); });
    EXPECT_EQ(e.fault(), FlashFault::kTargetNotResponding);
    EXPECT_THAT(e.what(), HasSubstr("after a connect-under-reset retry"));
    // The second run's own line (real: OpenOCD 0.12 echoes the reset_config).
    EXPECT_THAT(e.output_tail(),
                HasSubstr("srst_only separate srst_nogate srst_open_drain connect_assert_srst"));
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdFlashArgv(), OpenOcdFlashArgv(true)));
}

TEST_F(OpenOcdTest, ResetIsRetriedUnderResetToo) {
    Replay("target-not-responding,reset-ok");
    OpenOcd()->Reset();
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdArgv("init; reset run; shutdown"),
                                     OpenOcdArgv("init; reset run; shutdown", true)));
}

TEST_F(OpenOcdTest, ResetWithoutTheProbeIsProbeNotFound) {
    // Real: `openocd ... -c "init; reset run; shutdown"` with no probe attached.
    Replay("reset-no-probe");
    const FlashError e = Failure([&] { OpenOcd()->Reset(); });
    EXPECT_EQ(e.fault(), FlashFault::kProbeNotFound);
    EXPECT_THAT(e.what(), HasSubstr("Error: open failed"));
    EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(OpenOcdTest, AHungToolIsKilledAtTheTimeoutWithItsOutputSoFar) {
    Replay("hang");  // prints the ST-LINK's first lines, then sleeps 30 s
    const FlashError e = Failure([&] { OpenOcd(300ms)->Flash(elf_); });
    EXPECT_EQ(e.fault(), FlashFault::kTimeout);
    EXPECT_THAT(e.what(), HasSubstr("openocd: timed out after 300 ms (probe 066DFF"));
    EXPECT_THAT(e.output_tail(), HasSubstr("Info : Target voltage: 3.266711"));
    EXPECT_EQ(Calls().size(), 1u);  // a time-out is not retried
}

TEST_F(OpenOcdTest, AMissingBinaryIsToolMissing) {
    OpenOcdOptions options;
    options.openocd = (dir_ / "bin/openocd");
    options.probe_serial = kSerial;
    options.interface_cfg = kInterface;
    options.target_cfg = kTarget;
    const FlashError by_path = Failure([&] { MakeOpenOcdFlasher(options)->Flash(elf_); });
    EXPECT_EQ(by_path.fault(), FlashFault::kToolMissing);
    EXPECT_THAT(by_path.what(), HasSubstr("openocd: not installed"));
    EXPECT_THAT(by_path.what(), HasSubstr(options.openocd));

    options.openocd = "hilnas-no-such-openocd";  // looked up in PATH
    const FlashError by_name = Failure([&] { MakeOpenOcdFlasher(options)->ToolVersion(); });
    EXPECT_EQ(by_name.fault(), FlashFault::kToolMissing);
}

TEST_F(OpenOcdTest, ABadElfIsRefusedBeforeAnyToolRuns) {
    Replay("program-ok");
    auto flasher = OpenOcd();
    const FlashError missing = Failure([&] { flasher->Flash(dir_ / "missing.elf"); });
    EXPECT_EQ(missing.fault(), FlashFault::kBadElf);
    EXPECT_THAT(missing.what(), HasSubstr("no such file"));

    const FlashError text = Failure([&] { flasher->Flash(dir_.Write("notes.txt", "hello\n")); });
    EXPECT_EQ(text.fault(), FlashFault::kBadElf);
    EXPECT_THAT(text.what(), HasSubstr("shorter than an ELF header"));

    const FlashError not_elf =
        Failure([&] { flasher->Flash(dir_.Write("firmware.bin", std::string(64, '\xff'))); });
    EXPECT_THAT(not_elf.what(), HasSubstr("not an ELF file"));

    const FlashError host = Failure([&] { flasher->Flash(dir_.Write("host.elf", ElfHeader(62))); });
    EXPECT_EQ(host.fault(), FlashFault::kBadElf);
    EXPECT_THAT(host.what(), HasSubstr("e_machine 62"));

    std::filesystem::create_directories(dir_ / "a{b");
    const FlashError braces =
        Failure([&] { flasher->Flash(dir_.Write("a{b/firmware.elf", ElfHeader(40))); });
    EXPECT_EQ(braces.fault(), FlashFault::kBadElf);

    EXPECT_THAT(Calls(), IsEmpty());
}

TEST_F(OpenOcdTest, APathWithSpacesIsBracedForOpenOcd) {
    std::filesystem::create_directories(dir_ / "build dir");
    const std::string elf = dir_.Write("build dir/firmware.elf", ElfHeader(40));
    Replay("program-ok");
    OpenOcd()->Flash(elf);
    EXPECT_THAT(Calls(), ElementsAre(OpenOcdArgv("program {" + elf + "} verify reset exit")));
}

TEST(OpenOcdOptionsTest, TheProbeAndScriptsAreRequired) {
    OpenOcdOptions options;
    options.interface_cfg = kInterface;
    options.target_cfg = kTarget;
    auto field = [&]() -> std::string {
        try {
            MakeOpenOcdFlasher(options);
        } catch (const InvalidArgument& e) {
            return e.field();
        }
        return "(accepted)";
    };
    EXPECT_EQ(field(), "probe_serial");  // never "the first probe found"
    options.probe_serial = "066D FF";
    EXPECT_EQ(field(), "probe_serial");  // it goes into a Tcl command unquoted
    options.probe_serial = kSerial;
    options.interface_cfg.clear();
    EXPECT_EQ(field(), "interface_cfg");
    options.interface_cfg = kInterface;
    options.target_cfg.clear();
    EXPECT_EQ(field(), "target_cfg");
    options.target_cfg = kTarget;
    EXPECT_EQ(field(), "(accepted)");
}

// ---------------------------------------------------------------------------
// pyOCD

using PyOcdTest = StandinTest;

TEST_F(PyOcdTest, FlashProgramsThroughTheNamedProbe) {
    Replay("flash-ok");
    PyOcd()->Flash(elf_);
    EXPECT_THAT(Calls(), ElementsAre(PyOcdFlashArgv()));
}

TEST_F(PyOcdTest, ResetRunsTheBoardThroughTheNamedProbe) {
    Replay("reset-ok");
    PyOcd()->Reset();
    EXPECT_THAT(Calls(),
                ElementsAre(Argv{"reset", "-t", kPyOcdTarget, "-u", kSerial, "--no-wait"}));
}

TEST_F(PyOcdTest, ToolVersionIsTheFirstLineOfVersion) {
    Replay("version");
    auto flasher = PyOcd();
    EXPECT_EQ(flasher->ToolVersion(), "0.36.0");
    EXPECT_EQ(flasher->name(), "pyocd");
    EXPECT_THAT(Calls(), ElementsAre(Argv{"--version"}));
}

class PyOcdFaultTest : public StandinTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(PyOcdFaultTest, FlashFailureNamesTheCauseAndKeepsTheToolsLines) {
    const FaultCase& c = GetParam();
    Replay(c.recording);
    const FlashError e = Failure([&] { PyOcd()->Flash(elf_); });
    EXPECT_EQ(e.fault(), c.fault) << FlashFaultName(e.fault());
    EXPECT_THAT(e.what(), HasSubstr(std::string("pyocd: ") + c.cause));
    EXPECT_THAT(e.what(), HasSubstr(std::string("): ") + c.line));
    EXPECT_THAT(e.output_tail(), HasSubstr(c.line));
    const std::vector<Argv> calls = Calls();
    ASSERT_EQ(calls.size(), c.calls);
    EXPECT_EQ(calls[0], PyOcdFlashArgv());
}

INSTANTIATE_TEST_SUITE_P(
    RecordedRuns, PyOcdFaultTest,
    ::testing::Values(
        // Source: pyocd/core/helpers.py ConnectHelper.choose_probe (stdout), then
        // pyocd/subcommands/load_cmd.py "No target device available".
        FaultCase{"no-probe", FlashFault::kProbeNotFound, "probe not found",
                  "No connected debug probe matches unique ID '066DFF555185754867243330'", 1},
        // Source: pyocd/board/board.py, Board.__init__'s TargetSupportError
        // (stm32f446retx needs a CMSIS pack); the same line is in Zephyr users'
        // `west flash` logs for stm32g474retx. Logged by __main__ at level C.
        FaultCase{"target-not-supported", FlashFault::kOther, "failed (exited with status 1)",
                  "0001042 C Target type stm32f446retx not recognized.", 1},
        // Real log line (pyOCD issue #1523): an ST-LINK whose target does not answer.
        FaultCase{"target-not-responding", FlashFault::kTargetNotResponding,
                  "target not responding after a connect-under-reset retry",
                  "0000670 C STLink error (9): Get IDCODE error [__main__]", 2},
        // Source: pyocd/probe/pydapaccess (DAPAccessIntf.TransferError); pyOCD
        // issues #806, #973, #1123.
        FaultCase{"target-not-responding-cmsis-dap", FlashFault::kTargetNotResponding,
                  "target not responding", "0000581 C No ACK received [__main__]", 2},
        // Source: pyocd/probe/stlink/constants.py status 5; pyOCD issue #812.
        FaultCase{"target-not-responding-no-device", FlashFault::kTargetNotResponding,
                  "target not responding",
                  "0000734 C STLink error (5): No device connected [__main__]", 2},
        // Source: pyocd/flash/flash.py erase_sector() and program_page();
        // the message format is FlashFailure.__str__ (pyocd/core/exceptions.py).
        FaultCase{
            "flash-protected", FlashFault::kFlashProtected, "flash protected",
            "0001530 C flash erase sector failure (address 0x08000000; result code 0x1) [__main__]",
            1},
        FaultCase{
            "flash-protected-program", FlashFault::kFlashProtected, "flash protected",
            "0001187 C flash program page failure (address 0x08000000; result code 0x1) [__main__]",
            1},
        // Source: pyocd/flash/builder.py FlashBuilder.program()'s verify pass.
        FaultCase{"verify-failed", FlashFault::kVerifyFailed, "verify failed",
                  "0002214 C flash verify failure (address 0x08000000) [__main__]", 1}),
    CaseName);

TEST_F(PyOcdTest, AUidMatchingTwoProbesIsAmbiguous) {
    // Source: pyocd/core/helpers.py, choose_probe: -u matches as a substring.
    Replay("ambiguous");
    const FlashError e = Failure([&] { PyOcd("066D")->Flash(elf_); });
    EXPECT_EQ(e.fault(), FlashFault::kAmbiguousProbe);
    EXPECT_THAT(e.what(), HasSubstr("pyocd: more than one probe matches (probe 066D): "
                                    "More than one debug probe matches unique ID '066D':"));
    EXPECT_THAT(e.output_tail(), HasSubstr("STM32 STLink | 066DFF485457725187092920"));
    EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(PyOcdTest, TargetNotRespondingIsRetriedOnceConnectingUnderReset) {
    Replay("target-not-responding,flash-ok");
    PyOcd()->Flash(elf_);
    EXPECT_THAT(Calls(), ElementsAre(PyOcdFlashArgv(), PyOcdFlashArgv(/*under_reset=*/true)));
}

TEST_F(PyOcdTest, ResetWithoutTheProbeIsProbeNotFound) {
    // Source: pyocd/core/helpers.py, then pyocd/subcommands/reset_cmd.py.
    Replay("reset-no-probe");
    const FlashError e = Failure([&] { PyOcd()->Reset(); });
    EXPECT_EQ(e.fault(), FlashFault::kProbeNotFound);
    EXPECT_THAT(e.output_tail(), HasSubstr("No target device available to reset"));
    EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(PyOcdTest, AHungToolIsKilledAtTheTimeoutWithItsOutputSoFar) {
    Replay("hang");
    const FlashError e = Failure([&] { PyOcd(kSerial, 300ms)->Flash(elf_); });
    EXPECT_EQ(e.fault(), FlashFault::kTimeout);
    EXPECT_THAT(e.what(), HasSubstr("pyocd: timed out after 300 ms"));
    EXPECT_THAT(e.output_tail(), HasSubstr("I Loading /srv/hilnas/work/firmware.elf"));
    EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(PyOcdTest, AMissingBinaryIsToolMissing) {
    // This machine's python3-pyocd (0.13.1) ships pyocd-flashtool and
    // pyocd-tool but no `pyocd`: the case is real here.
    PyOcdOptions options;
    options.pyocd = "hilnas-no-such-pyocd";
    options.uid = kSerial;
    options.target = kPyOcdTarget;
    const FlashError e = Failure([&] { MakePyOcdFlasher(options)->Flash(elf_); });
    EXPECT_EQ(e.fault(), FlashFault::kToolMissing);
    EXPECT_THAT(e.what(), HasSubstr("pyocd: not installed (probe 066DFF"));
}

TEST(PyOcdOptionsTest, TheUidAndTargetAreRequired) {
    PyOcdOptions options;
    options.target = kPyOcdTarget;
    auto field = [&]() -> std::string {
        try {
            MakePyOcdFlasher(options);
        } catch (const InvalidArgument& e) {
            return e.field();
        }
        return "(accepted)";
    };
    EXPECT_EQ(field(), "uid");
    options.uid = "stlink:066DFF555185754867243330";  // a probe-type prefix is allowed
    EXPECT_EQ(field(), "(accepted)");
    options.target.clear();
    EXPECT_EQ(field(), "target");
}

TEST(FlashFaultTest, NamesAreStable) {
    EXPECT_STREQ(FlashFaultName(FlashFault::kProbeNotFound), "probe-not-found");
    EXPECT_STREQ(FlashFaultName(FlashFault::kAmbiguousProbe), "ambiguous-probe");
    EXPECT_STREQ(FlashFaultName(FlashFault::kTargetNotResponding), "target-not-responding");
    EXPECT_STREQ(FlashFaultName(FlashFault::kFlashProtected), "flash-protected");
    EXPECT_STREQ(FlashFaultName(FlashFault::kVerifyFailed), "verify-failed");
    EXPECT_STREQ(FlashFaultName(FlashFault::kTimeout), "timeout");
    EXPECT_STREQ(FlashFaultName(FlashFault::kToolMissing), "tool-missing");
    EXPECT_STREQ(FlashFaultName(FlashFault::kBadElf), "bad-elf");
    EXPECT_STREQ(FlashFaultName(FlashFault::kOther), "other");
}

// ---------------------------------------------------------------------------
// Probe listing

// A fake /sys/bus/usb/devices: one folder per device with its attributes.
class FakeSysfs {
  public:
    explicit FakeSysfs(const std::filesystem::path& root) : root_(root) {
        std::filesystem::create_directories(root_);
    }
    void Device(const std::string& name, const std::string& vendor, const std::string& product,
                const std::string& serial, const std::string& manufacturer,
                const std::string& product_name) const {
        const auto dir = root_ / name;
        std::filesystem::create_directories(dir);
        Write(dir / "idVendor", vendor + "\n");
        Write(dir / "idProduct", product + "\n");
        if (!serial.empty()) Write(dir / "serial", serial + "\n");
        Write(dir / "manufacturer", manufacturer + "\n");
        Write(dir / "product", product_name + "\n");
    }
    // A USB interface folder: no idVendor of its own.
    void Interface(const std::string& name) const {
        std::filesystem::create_directories(root_ / name);
        Write(root_ / name / "bInterfaceClass", "ff\n");
    }
    std::string path() const { return root_.string(); }

  private:
    static void Write(const std::filesystem::path& file, const std::string& text) {
        std::ofstream(file, std::ios::binary) << text;
    }
    std::filesystem::path root_;
};

using ProbeListTest = StandinTest;

TEST_F(ProbeListTest, PyOcdsListAndTheUsbScanAreMergedBySerial) {
    FakeSysfs sysfs(dir_.path() / "usb");
    sysfs.Device("usb1", "1d6b", "0002", "0000:00:14.0", "Linux 6.1.0 xhci-hcd", "xHCI Host");
    sysfs.Device("1-1", "0483", "374b", kSerial, "STMicroelectronics", "STM32 STLink");
    sysfs.Interface("1-1:1.0");
    // The raw serial of an ST-LINK/V2 clone as the kernel shows it, from the
    // dmesg in pyOCD issue #1523, where `pyocd list` gave 856D010110134753384C4E00.
    sysfs.Device("1-2", "0483", "3748", "\xc2\x85m\x01\x01\x10\x13GS8LN", "STMicroelectronics",
                 "STM32 STLink");
    sysfs.Device("1-3", "1366", "0105", "000260012345", "SEGGER", "J-Link");
    sysfs.Device("1-4", "046d", "c52b", "", "Logitech", "USB Receiver");
    sysfs.Device("2-1", "0d28", "0204", "04161701a0b903f800000000000000000000000097969906", "ARM",
                 "DAPLink CMSIS-DAP");
    Replay("list");

    ProbeListOptions options;
    options.pyocd = Standin("pyocd");
    options.usb_sysfs = sysfs.path();
    EXPECT_THAT(
        ListProbes(options),
        ElementsAre(
            FieldsAre("04161701a0b903f800000000000000000000000097969906",
                      "Arm CMSIS-DAP v1 (Analog Devices MAX32625PICO)", "pyocd", "0d28:0204"),
            FieldsAre(kSerial, "STM32 STLink (STMicroelectronics NUCLEO-F446RE)", "pyocd",
                      "0483:374b"),
            FieldsAre("260012345", "SEGGER J-Link", "usb", "1366:0105"),
            FieldsAre("856D010110134753384C4E00", "STM32 STLink", "pyocd", "0483:3748")));
    EXPECT_THAT(Calls(), ElementsAre(Argv{"list", "--probes"}));
}

TEST_F(ProbeListTest, ClonesWithOneSerialStayTwoProbes) {
    FakeSysfs sysfs(dir_.path() / "usb");
    sysfs.Device("1-1", "0483", "374b", kSerial, "STMicroelectronics", "STM32 STLink");
    sysfs.Device("1-2", "0483", "374b", kSerial, "STMicroelectronics", "STM32 STLink");
    Replay("list-none");  // "No available debug probes are connected"
    ProbeListOptions options;
    options.pyocd = Standin("pyocd");
    options.usb_sysfs = sysfs.path();
    const std::vector<Probe> probes = ListProbes(options);
    ASSERT_EQ(probes.size(), 2u);
    EXPECT_EQ(probes[0].serial, kSerial);
    EXPECT_EQ(probes[1].serial, kSerial);
    EXPECT_EQ(probes[0].source, "usb");
}

TEST_F(ProbeListTest, WithoutPyOcdTheUsbScanStillAnswers) {
    FakeSysfs sysfs(dir_.path() / "usb");
    sysfs.Device("1-1", "0483", "374e", "002F00283438510A31373832", "STMicroelectronics",
                 "STLINK-V3");
    ProbeListOptions options;
    options.pyocd = "hilnas-no-such-pyocd";
    options.usb_sysfs = sysfs.path();
    EXPECT_THAT(ListProbes(options),
                ElementsAre(FieldsAre("002F00283438510A31373832", "STMicroelectronics STLINK-V3",
                                      "usb", "0483:374e")));
}

TEST_F(ProbeListTest, NoProbesAtAll) {
    Replay("list-none");
    ProbeListOptions options;
    options.pyocd = Standin("pyocd");
    options.usb_sysfs = dir_ / "no-usb-here";
    EXPECT_THAT(ListProbes(options), IsEmpty());
}

TEST(ParsePyOcdListTest, ColourCodesAreIgnored) {
    // A row as pyocd/core/helpers.py _print_probe_list() writes it on a
    // terminal: colorama codes around each cell.
    const std::string output =
        "  #   Probe/Board    Unique ID                  Target  \n"
        "--------------------------------------------------------\n"
        "  \x1b[35m0   \x1b[32mSTM32 STLink   \x1b[36m856D010110134753384C4E00   "
        "\x1b[2m\x1b[37mn/a\x1b[0m  \n";
    EXPECT_THAT(ParsePyOcdList(output),
                ElementsAre(FieldsAre("856D010110134753384C4E00", "STM32 STLink", "pyocd", "")));
    EXPECT_THAT(ParsePyOcdList("No available debug probes are connected\n"), IsEmpty());
}

}  // namespace
}  // namespace hilnas::agent
