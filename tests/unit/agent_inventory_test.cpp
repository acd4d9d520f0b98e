// The lab inventory: what a valid one gives, and the one readable error each
// mistake gets (naming the key, never "the first probe found").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hilnas/agent/inventory.h"
#include "hilnas/common/errors.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::agent {
namespace {

using ::testing::HasSubstr;

constexpr const char* kLab = R"(
agent_id: lab1
boards:
  - id: f446-a
    type: nucleo-f446re
    debugger: openocd
    probe_serial: 066DFF485457725187092531
    serial_port: /dev/ttyACM0
    meter: {type: lpm01a, port: /dev/ttyACM1}
    timeouts: {flash: 90s, boot: 5s, command: 2m}
  - id: h743-b
    type: nucleo-h743zi
    debugger: pyocd
    probe_serial: 003A00293232510B33353533
    serial_port: /dev/ttyACM2
    baud: 921600
  - id: qemu-0
    type: qemu-netduinoplus2
    debugger: qemu
    icount_shift: 2
)";

TEST(Inventory, ParsesALab) {
    const Inventory inv = ParseInventory(kLab);
    EXPECT_EQ(inv.agent_id, "lab1");
    ASSERT_EQ(inv.boards.size(), 3u);
    const BoardConfig& a = inv.boards[0];
    EXPECT_EQ(a.id, "f446-a");
    EXPECT_EQ(a.debugger, "openocd");
    EXPECT_EQ(a.probe_serial, "066DFF485457725187092531");
    EXPECT_EQ(a.baud, 115200);
    EXPECT_EQ(a.meter.type, "lpm01a");
    EXPECT_EQ(a.meter.port, "/dev/ttyACM1");
    EXPECT_EQ(a.meter.baud, 3686400);
    EXPECT_EQ(a.flash_timeout, std::chrono::seconds(90));
    EXPECT_EQ(a.boot_timeout, std::chrono::seconds(5));
    EXPECT_EQ(a.command_timeout, std::chrono::minutes(2));
    EXPECT_EQ(inv.boards[1].baud, 921600);
    EXPECT_EQ(inv.boards[2].icount_shift, 2);

    const v1::Board p = ToProto(a);
    EXPECT_EQ(p.board_id(), "f446-a");
    EXPECT_EQ(p.board_type(), "nucleo-f446re");
    EXPECT_EQ(p.debugger(), v1::DEBUGGER_OPENOCD);
    EXPECT_EQ(p.meter(), v1::ENERGY_METER_LPM01A);
    EXPECT_EQ(p.health(), v1::BOARD_HEALTH_UNKNOWN);
    EXPECT_EQ(ToProto(inv.boards[2]).debugger(), v1::DEBUGGER_QEMU);
}

TEST(Inventory, TheDefaultIsOneEmulatedBoard) {
    const Inventory inv = DefaultInventory();
    ASSERT_EQ(inv.boards.size(), 1u);
    EXPECT_EQ(inv.boards[0].id, "qemu-0");
    EXPECT_EQ(inv.boards[0].type, "qemu-netduinoplus2");
    EXPECT_EQ(inv.boards[0].debugger, "qemu");
}

void ExpectError(const std::string& yaml, const std::string& field, const std::string& text) {
    try {
        ParseInventory(yaml);
        ADD_FAILURE() << "accepted:\n" << yaml;
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), field) << e.what();
        EXPECT_THAT(e.message(), HasSubstr(text)) << e.what();
    }
}

TEST(Inventory, EachMistakeNamesItsKey) {
    ExpectError("boards: []", "boards", "at least one board");
    ExpectError("boards:\n  - {type: qemu-netduinoplus2, debugger: qemu}", "boards[0].id",
                "is required");
    ExpectError("boards:\n  - {id: a, type: nucleo-f999, debugger: openocd}", "boards[0].type",
                "unknown board type 'nucleo-f999'");
    ExpectError("boards:\n  - {id: a, type: nucleo-f446re, debugger: jlink}", "boards[0].debugger",
                "must be openocd, pyocd or qemu");
    ExpectError(
        "boards:\n  - {id: a, type: nucleo-f446re, debugger: openocd, serial_port: /dev/ttyACM0}",
        "boards[0].probe_serial", "never the first probe found");
    ExpectError("boards:\n  - {id: a, type: nucleo-f446re, debugger: pyocd, probe_serial: X}",
                "boards[0].serial_port", "is required");
    ExpectError("boards:\n  - {id: a, type: nucleo-f446re, debugger: qemu}", "boards[0].debugger",
                "qemu emulates only");
    ExpectError(
        "boards:\n  - {id: a, type: qemu-netduinoplus2, debugger: openocd, "
        "probe_serial: X, serial_port: /dev/x}",
        "boards[0].debugger", "is emulated");
    ExpectError("boards:\n  - {id: a, type: qemu-netduinoplus2, debugger: qemu, colour: red}",
                "boards[0].colour", "unknown key");
    ExpectError(
        "boards:\n  - {id: a, type: qemu-netduinoplus2, debugger: qemu}\n"
        "  - {id: a, type: qemu-netduinoplus2, debugger: qemu}",
        "boards[1].id", "duplicate board id 'a'");
    ExpectError(
        "boards:\n"
        "  - {id: a, type: nucleo-f446re, debugger: openocd, probe_serial: P, "
        "serial_port: /dev/a}\n"
        "  - {id: b, type: nucleo-f446re, debugger: openocd, probe_serial: P, "
        "serial_port: /dev/b}",
        "boards[1].probe_serial", "listed for two boards");
    ExpectError(
        "boards:\n  - {id: a, type: nucleo-f446re, debugger: openocd, probe_serial: P, "
        "serial_port: /dev/a, baud: fast}",
        "boards[0].baud", "must be an integer");
    ExpectError(
        "boards:\n  - {id: a, type: nucleo-f446re, debugger: openocd, probe_serial: P, "
        "serial_port: /dev/a, meter: {type: joulescope, port: /dev/b}}",
        "boards[0].meter.type", "must be lpm01a");
    ExpectError(
        "boards:\n  - {id: a, type: qemu-netduinoplus2, debugger: qemu, "
        "timeouts: {flash: soon}}",
        "boards[0].timeouts.flash", "");
    ExpectError("boards: [\n", "inventory", "not valid YAML");
    ExpectError("- just a list", "inventory", "must be a mapping");
}

TEST(Inventory, AHugeValueIsQuotedShortInTheError) {
    const std::string huge(1 << 20, 'z');
    try {
        ParseInventory("boards:\n  - {id: a, type: " + huge + ", debugger: openocd}\n");
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "boards[0].type");
        EXPECT_LT(e.message().size(), 300u) << "the input is not echoed whole";
        EXPECT_THAT(e.message(), HasSubstr("unknown board type 'zzzz"));
    }
}

TEST(Inventory, AMissingFileIsOneReadableError) {
    testing::TempDir dir;
    try {
        LoadInventory(dir / "nope.yaml");
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "inventory");
        EXPECT_THAT(e.message(), HasSubstr("no such file"));
    }
    const std::string bad = dir.Write("bad.yaml", "boards:\n  - {id: a}\n");
    try {
        LoadInventory(bad);
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_THAT(e.message(), HasSubstr("bad.yaml: boards[0].type: is required"));
    }
}

}  // namespace
}  // namespace hilnas::agent
