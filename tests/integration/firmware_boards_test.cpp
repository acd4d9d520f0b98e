// The firmware builds for every supported board, and what it needs fits the
// board: flash and static RAM under the part's, the planner's arena inside .bss.
#include <gtest/gtest.h>

#include <map>

#include "hilnas/common/errors.h"
#include "hilnas/firmware/artifact.h"
#include "hilnas/firmware/build.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::firmware {
namespace {

struct Part {
    int64_t flash, ram;
};
// From the linker scripts' memory regions (the parts' datasheets).
const std::map<std::string, Part> kParts = {
    {"qemu-netduinoplus2", {1024 * 1024, 128 * 1024}},
    {"nucleo-f446re", {512 * 1024, 128 * 1024}},
    {"nucleo-f746zg", {1024 * 1024, 320 * 1024}},
    {"nucleo-h743zi", {2048 * 1024, 512 * 1024}},
};

TEST(FirmwareBoards, EveryBoardBuildsAndReportsItsElfSizes) {
    const arch::Model model =
        arch::ModelFromJson(R"({"name": "lenet", "input": {"shape": [28, 28, 1]},
      "layers": [{"op": "conv2d", "filters": 8, "kernel": 5, "padding": "same", "activation": "relu"},
                 {"op": "max_pool", "pool": 2},
                 {"op": "conv2d", "filters": 16, "kernel": 5, "padding": "same", "activation": "relu"},
                 {"op": "max_pool", "pool": 2},
                 {"op": "flatten"},
                 {"op": "dense", "units": 10}]})");
    const v1::Int8Model artifact = RandomArtifact(model, 1);
    testing::TempDir dir;
    ASSERT_EQ(Boards().size(), kParts.size());
    std::printf("%-20s %8s %8s %8s %8s %8s %8s %10s\n", "board", ".text", ".rodata", ".data",
                ".bss", ".stack", "flash", "static RAM");
    for (const std::string& board : Boards()) {
        BuildOptions options;
        options.board = board;
        options.out_dir = dir / board;
        const FirmwareBuild b = BuildFirmware(artifact, options);
        std::printf("%-20s %8lld %8lld %8lld %8lld %8lld %8lld %10lld\n", board.c_str(),
                    static_cast<long long>(b.sizes.text), static_cast<long long>(b.sizes.rodata),
                    static_cast<long long>(b.sizes.data), static_cast<long long>(b.sizes.bss),
                    static_cast<long long>(b.sizes.stack),
                    static_cast<long long>(b.sizes.flash_bytes()),
                    static_cast<long long>(b.sizes.static_ram_bytes()));
        const Part& part = kParts.at(board);
        EXPECT_LE(b.sizes.flash_bytes(), part.flash) << board;
        EXPECT_LE(b.sizes.static_ram_bytes(), part.ram) << board;
        EXPECT_GE(b.sizes.bss, b.arena_bytes) << board << ": the arena lives in .bss";
        // The weights are const: in flash, not copied to RAM.
        EXPECT_GE(b.sizes.rodata, 5 * 5 * 8 * 16 + 784 * 10) << board;
        EXPECT_LT(b.sizes.data, 64) << board << ": only a few board variables are copied to RAM";
        EXPECT_EQ(b.toolchain.rfind("arm-none-eabi-gcc", 0), 0u);
    }
}

TEST(FirmwareBoards, UnknownBoardsAreRefused) {
    testing::TempDir dir;
    BuildOptions options;
    options.board = "nucleo-l4r5zi";
    options.out_dir = dir / "x";
    EXPECT_THROW(BuildFirmware(RandomArtifact(arch::ModelFromJson(R"({"input": {"shape": [2, 2, 1]},
      "layers": [{"op": "flatten"}, {"op": "dense", "units": 2}]})"),
                                              1),
                               options),
                 InvalidArgument);
}

}  // namespace
}  // namespace hilnas::firmware
