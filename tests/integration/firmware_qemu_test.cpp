// Firmware built for qemu-netduinoplus2 from a generated model boots under
// QEMU; driven over its UART with the MLPerf Tiny protocol, it computes what
// the host runtime computes, bit for bit, and reports the planner's arena.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "hilnas/agent/dut.h"
#include "hilnas/agent/qemu.h"
#include "hilnas/firmware/artifact.h"
#include "hilnas/firmware/build.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;

const char* const kResidual4Bit = R"({"name": "res4", "input": {"shape": [16, 16, 2]}, "layers": [
  {"id": "c1", "op": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "padding": "same", "activation": "relu"},
  {"id": "d1", "op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu"},
  {"op": "conv2d", "filters": 8, "kernel": 1, "weight_bits": 4},
  {"op": "add", "inputs": ["c1", "prev"], "activation": "relu"},
  {"op": "avg_pool", "pool": 2},
  {"op": "conv2d", "filters": 12, "kernel": 3, "padding": "valid", "activation": "relu6", "weight_bits": 4},
  {"op": "max_pool", "pool": 2, "padding": "same"},
  {"op": "flatten"},
  {"op": "dense", "units": 16, "activation": "relu", "weight_bits": 4},
  {"op": "dense", "units": 10}]})";

class FirmwareOnQemu : public ::testing::TestWithParam<std::string> {};

TEST_P(FirmwareOnQemu, OutputsEqualTheHostRuntimeBitForBit) {
    const arch::Model model = arch::ModelFromJson(kResidual4Bit);
    const v1::Int8Model artifact = firmware::RandomArtifact(model, 2024);
    firmware::HostModel host(artifact);
    testing::TempDir dir;
    firmware::BuildOptions options;
    options.board = "qemu-netduinoplus2";
    options.out_dir = dir / "fw";
    options.runtime_variant = GetParam();
    const firmware::FirmwareBuild build = firmware::BuildFirmware(artifact, options);
    std::printf("firmware (%s kernels): flash %lld bytes, static RAM %lld bytes, arena %lld\n",
                GetParam().c_str(), static_cast<long long>(build.sizes.flash_bytes()),
                static_cast<long long>(build.sizes.static_ram_bytes()),
                static_cast<long long>(build.arena_bytes));

    agent::QemuBoard board(agent::QemuOptions{build.elf});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    EXPECT_EQ(dut.Command("name").Value("m-name-hilnas-"), "qemu-netduinoplus2");
    EXPECT_EQ(dut.Command("profile").Value("m-model-"), "res4");

    std::mt19937_64 rng(9);
    std::uniform_int_distribution<int> byte(-128, 127);
    for (int n = 0; n < 3; ++n) {
        std::vector<int8_t> input(static_cast<size_t>(host.input_bytes()));
        for (auto& v : input) v = static_cast<int8_t>(byte(rng));
        dut.LoadInput(input);
        const agent::Inference inf = dut.Infer(2, 1);
        EXPECT_EQ(inf.output, host.Run(input)) << "input " << n;
        EXPECT_EQ(inf.arena_bytes, static_cast<uint64_t>(host.arena_bytes()));
        EXPECT_EQ(inf.arena_bytes, static_cast<uint64_t>(build.arena_bytes));
        EXPECT_EQ(inf.timer_kind, "systick-icount");
        EXPECT_EQ(inf.runs, 2u);
        EXPECT_GT(inf.min_ticks, 0u);
        // Emulated time is deterministic: every run of the same input executes the
        // same instructions; the tick count (1.344 ticks per instruction at
        // shift 3) differs only by the clock's quantisation, under one instruction.
        EXPECT_LE(static_cast<double>(inf.max_ticks - inf.min_ticks),
                  1.0 / board.InstructionsPerTick());
        EXPECT_GT(inf.stack_high_water_bytes, 0u);
        EXPECT_LT(inf.stack_high_water_bytes, inf.stack_size_bytes);
    }
}

INSTANTIATE_TEST_SUITE_P(Kernels, FirmwareOnQemu, ::testing::Values("cortex_m", "reference"));

TEST(FirmwareOnQemuProtocol, BadCommandsGetAnErrorAndTheDeviceKeepsAnswering) {
    const arch::Model model =
        arch::ModelFromJson(R"({"name": "small", "input": {"shape": [4, 4, 1]},
      "layers": [{"op": "conv2d", "filters": 2, "kernel": 3}, {"op": "flatten"},
                 {"op": "dense", "units": 3}]})");
    const v1::Int8Model artifact = firmware::RandomArtifact(model, 1);
    testing::TempDir dir;
    firmware::BuildOptions options;
    options.board = "qemu-netduinoplus2";
    options.out_dir = dir / "fw";
    const firmware::FirmwareBuild build = firmware::BuildFirmware(artifact, options);
    agent::QemuBoard board(agent::QemuOptions{build.elf});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"frobnicate", "Unknown command"},
        {std::string(3000, 'x'), "Command too long"},
        {"db", "requires a subcommand"},
        {"db load", "requires a byte count"},
        {"db load 17", "expects the model's input size, 16 bytes"},
        {"db 0102", "needs 'db load N' first"},
        {"infer", "No input"},
        {"infer 0", "iterations must be >0"},
        {"infer 1 -3", "warmup must be >=0"},
        {"results", "No results"},
        {"\x01\x7f\x1b[2J", "Invalid character"},
        {"", "Empty command"},
        {"db load 16 extra words here", "Too many arguments"},
    };
    for (const auto& [command, error] : bad) {
        const agent::Reply r = dut.Command(command);
        EXPECT_THAT(r.error(), HasSubstr(error)) << "command '" << command.substr(0, 40) << "'";
        EXPECT_EQ(dut.Command("name").Value("m-name-hilnas-"), "qemu-netduinoplus2")
            << "still answering after '" << command.substr(0, 40) << "'";
    }
    // A truncated load: the bytes that arrived stay, infer refuses until all did.
    EXPECT_TRUE(dut.Command("db load 16").error().empty());
    EXPECT_TRUE(dut.Command("db 0102030405").error().empty());
    EXPECT_THAT(dut.Command("db 0g").error(), HasSubstr("Invalid hex digit"));
    EXPECT_THAT(dut.Command("db 012").error(), HasSubstr("Insufficient number of hex digits"));
    EXPECT_THAT(dut.Command("infer 1 0").error(), HasSubstr("No input"));
    // And after all that, a real inference still matches the host.
    std::vector<int8_t> input(16);
    for (int i = 0; i < 16; ++i) input[static_cast<size_t>(i)] = static_cast<int8_t>(i * 13 - 100);
    dut.LoadInput(input);
    firmware::HostModel host(artifact);
    EXPECT_EQ(dut.Infer(1, 0).output, host.Run(input));
}

}  // namespace
}  // namespace hilnas
