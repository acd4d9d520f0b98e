// The firmware builds for every board of the catalogue, and what it needs fits
// the board: flash and static RAM under the part's, the planner's arena inside
// .bss. Every board with a timestamp pin also builds in MLPerf Tiny energy mode,
// with its timestamp pulse linked in.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/firmware/build.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::firmware {
namespace {

const char* const kLenet = R"({"name": "lenet", "input": {"shape": [28, 28, 1]},
  "layers": [{"op": "conv2d", "filters": 8, "kernel": 5, "padding": "same", "activation": "relu"},
             {"op": "max_pool", "pool": 2},
             {"op": "conv2d", "filters": 16, "kernel": 5, "padding": "same", "activation": "relu"},
             {"op": "max_pool", "pool": 2},
             {"op": "flatten"},
             {"op": "dense", "units": 10}]})";

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in) << path;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The LENGTH of memory region `region` (e.g. "FLASH") in a linker script, in bytes.
int64_t RegionBytes(const std::string& script, const std::string& region) {
    const std::regex re(region + R"(\s*\([a-z]+\)\s*:\s*ORIGIN\s*=\s*\w+,\s*LENGTH\s*=\s*(\d+)K)");
    std::smatch m;
    if (!std::regex_search(script, m, re)) return -1;
    return std::stoll(m[1].str()) * 1024;
}

// The ELF's defined symbols, from arm-none-eabi-nm.
std::set<std::string> Symbols(const std::string& elf) {
    ProcessOptions p;
    p.argv = {"arm-none-eabi-nm", "--defined-only", elf};
    p.timeout = std::chrono::seconds(60);
    const ProcessResult r = RunProcess(p);
    EXPECT_TRUE(r.ok()) << r.Describe() << r.err;
    std::set<std::string> names;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        const size_t space = line.rfind(' ');
        if (space != std::string::npos) names.insert(line.substr(space + 1));
    }
    return names;
}

bool Contains(const std::string& bytes, const std::string& text) {
    return bytes.find(text) != std::string::npos;
}

TEST(FirmwareBoards, EveryBoardBuildsAndReportsItsElfSizes) {
    const v1::Int8Model artifact = artifact::RandomArtifact(arch::ModelFromJson(kLenet), 1);
    testing::TempDir dir;
    ASSERT_FALSE(catalog::BoardTypes().empty());
    std::printf("%-20s %8s %8s %8s %8s %8s %8s %10s\n", "board", ".text", ".rodata", ".data",
                ".bss", ".stack", "flash", "static RAM");
    for (const catalog::BoardType& board : catalog::BoardTypes()) {
        // The catalogue's memory sizes are the linker script's regions.
        const std::string script =
            ReadFile(testing::SourcePath("firmware/boards/" + board.name + "/linker.ld"));
        EXPECT_EQ(RegionBytes(script, "FLASH"), board.flash_bytes) << board.name;
        EXPECT_EQ(RegionBytes(script, "RAM"), board.sram_bytes) << board.name;

        BuildOptions options;
        options.board = board.name;
        options.out_dir = dir / board.name;
        const FirmwareBuild b = BuildFirmware(artifact, options);
        std::printf("%-20s %8lld %8lld %8lld %8lld %8lld %8lld %10lld\n", board.name.c_str(),
                    static_cast<long long>(b.sizes.text), static_cast<long long>(b.sizes.rodata),
                    static_cast<long long>(b.sizes.data), static_cast<long long>(b.sizes.bss),
                    static_cast<long long>(b.sizes.stack),
                    static_cast<long long>(b.sizes.flash_bytes()),
                    static_cast<long long>(b.sizes.static_ram_bytes()));
        EXPECT_LE(b.sizes.flash_bytes(), board.flash_bytes) << board.name;
        EXPECT_LE(b.sizes.static_ram_bytes(), board.sram_bytes) << board.name;
        EXPECT_GE(b.sizes.bss, b.arena_bytes) << board.name << ": the arena lives in .bss";
        // The weights are const: in flash, not copied to RAM.
        EXPECT_GE(b.sizes.rodata, 5 * 5 * 8 * 16 + 784 * 10) << board.name;
        EXPECT_LT(b.sizes.data, 64) << board.name << ": only a few board variables are copied";
        EXPECT_EQ(b.toolchain.rfind("arm-none-eabi-gcc", 0), 0u);
        // Performance mode: timestamps are lines, so no pin code is linked in.
        const std::set<std::string> symbols = Symbols(b.elf);
        EXPECT_TRUE(symbols.count("main")) << board.name;
        EXPECT_FALSE(symbols.count("board_timestamp_pulse")) << board.name;
        const std::string elf = ReadFile(b.elf);
        EXPECT_TRUE(Contains(elf, "m-timestamp-mode-performance")) << board.name;
        EXPECT_TRUE(Contains(elf, "m-hilnas-lap-[")) << board.name;
    }
}

TEST(FirmwareBoards, EveryBoardWithATimestampPinBuildsInEnergyMode) {
    const v1::Int8Model artifact = artifact::RandomArtifact(arch::ModelFromJson(kLenet), 1);
    testing::TempDir dir;
    int boards = 0;
    for (const catalog::BoardType& board : catalog::BoardTypes()) {
        if (board.timestamp_pin.empty()) continue;
        ++boards;
        BuildOptions options;
        options.board = board.name;
        options.out_dir = dir / board.name;
        options.energy_mode = true;
        const FirmwareBuild b = BuildFirmware(artifact, options);
        EXPECT_LE(b.sizes.flash_bytes(), board.flash_bytes) << board.name;
        EXPECT_LE(b.sizes.static_ram_bytes(), board.sram_bytes) << board.name;
        const std::set<std::string> symbols = Symbols(b.elf);
        EXPECT_TRUE(symbols.count("board_timestamp_pin_init")) << board.name;
        EXPECT_TRUE(symbols.count("board_timestamp_pulse")) << board.name;
        // Energy mode announces itself as the reference does and prints no laps.
        const std::string elf = ReadFile(b.elf);
        EXPECT_TRUE(Contains(elf, "m-timestamp-mode-energy")) << board.name;
        EXPECT_FALSE(Contains(elf, "m-timestamp-mode-performance")) << board.name;
        EXPECT_FALSE(Contains(elf, "m-hilnas-lap-[")) << board.name;
    }
    EXPECT_EQ(boards, 3) << "the three Nucleos have a timestamp pin";
}

v1::Int8Model TinyArtifact() {
    return artifact::RandomArtifact(arch::ModelFromJson(R"({"input": {"shape": [2, 2, 1]},
      "layers": [{"op": "flatten"}, {"op": "dense", "units": 2}]})"),
                                    1);
}

// The field of the InvalidArgument that BuildFirmware throws; empty if none.
std::string RefusedField(const BuildOptions& options) {
    try {
        BuildFirmware(TinyArtifact(), options);
    } catch (const InvalidArgument& e) {
        return e.field();
    }
    return {};
}

// Jobs, agents without an inventory and flash predictions fall back on it:
// every machine must be able to run it.
TEST(FirmwareBoards, TheDefaultBoardIsCataloguedAndEmulated) {
    const catalog::BoardType& board =
        catalog::FindBoardType(std::string(catalog::kDefaultBoardType));
    EXPECT_TRUE(board.emulated());
    EXPECT_EQ(board.name, "qemu-netduinoplus2");
}

TEST(FirmwareBoards, UnknownBoardsAndUnsupportedOptionsAreRefused) {
    testing::TempDir dir;
    BuildOptions options;
    options.out_dir = dir / "x";
    options.board = "nucleo-l4r5zi";
    EXPECT_EQ(RefusedField(options), "board");
    // The emulated board has no timestamp pin: no energy mode.
    options.board = "qemu-netduinoplus2";
    options.energy_mode = true;
    EXPECT_EQ(RefusedField(options), "energy_mode");
    options.energy_mode = false;
    options.fault = "hang-on-boot";
    EXPECT_EQ(RefusedField(options), "fault");
}

}  // namespace
}  // namespace hilnas::firmware
