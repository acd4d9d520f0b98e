// Firmware built for qemu-netduinoplus2 from a generated model boots under
// QEMU; driven over its UART with the MLPerf Tiny protocol, it answers as the
// reference firmware does (mlcommons/tiny api/internally_implemented.c),
// computes what the host runtime computes, bit for bit, reports the
// planner's arena and each timed run's ticks. Builds with an injected fault
// hang or lie, as the agent's robustness tests need. The host side's parsing
// of energy-mode replies, which no emulated board gives, runs on scripted ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <tuple>

#include "hilnas/agent/dut.h"
#include "hilnas/agent/qemu.h"
#include "hilnas/arch/planner.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/build.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

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

// Inverted bottlenecks whose memory plan runs depthwise and 1x1 layers in
// place (nn_*_in_place_s8): the last block's depthwise and narrowing 1x1;
// 3x3 and 5x5 windows, a residual. Small, like dw4, for the same reason.
const char* const kBottlenecks = R"({"name": "mbv2", "input": {"shape": [4, 4, 2]}, "layers": [
  {"op": "conv2d", "filters": 16, "kernel": 1, "activation": "relu6"},
  {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu6"},
  {"id": "p1", "op": "conv2d", "filters": 4, "kernel": 1},
  {"op": "conv2d", "filters": 12, "kernel": 1, "activation": "relu6"},
  {"op": "depthwise_conv2d", "kernel": 5, "padding": "same", "activation": "relu6"},
  {"op": "conv2d", "filters": 4, "kernel": 1},
  {"op": "add", "inputs": ["p1", "prev"]},
  {"op": "conv2d", "filters": 24, "kernel": 1, "activation": "relu6"},
  {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu6"},
  {"op": "conv2d", "filters": 6, "kernel": 1},
  {"op": "global_avg_pool"},
  {"op": "dense", "units": 10}]})";

const char* const kDepthwise4Bit = R"({"name": "dw4", "input": {"shape": [8, 8, 7]}, "layers": [
  {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu", "weight_bits": 4},
  {"op": "conv2d", "filters": 12, "kernel": 1, "activation": "relu6", "weight_bits": 4},
  {"op": "depthwise_conv2d", "kernel": 5, "stride": 2, "padding": "same", "activation": "relu6", "weight_bits": 4},
  {"op": "depthwise_conv2d", "kernel": 3, "depth_multiplier": 2, "padding": "same", "weight_bits": 4},
  {"op": "depthwise_conv2d", "kernel": 3, "padding": "valid", "activation": "relu", "weight_bits": 4},
  {"op": "global_avg_pool"},
  {"op": "dense", "units": 10}]})";

// A pruned model (issue #11): its conv and dense layers carry their exact
// non-zero weight counts (RandomArtifact puts the zeros at random places),
// 69% to 84% zeros, so they run the sparse kernels; the last layer has no
// zeros and stays dense.
const char* const kSparse = R"({"name": "sparse", "input": {"shape": [12, 12, 3]}, "layers": [
  {"op": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "activation": "relu", "nonzero_weights": 90},
  {"op": "conv2d", "filters": 16, "kernel": 1, "activation": "relu", "nonzero_weights": 80},
  {"op": "max_pool", "pool": 2},
  {"op": "conv2d", "filters": 8, "kernel": 3, "padding": "valid", "activation": "relu6", "nonzero_weights": 300},
  {"op": "flatten"},
  {"op": "dense", "units": 24, "activation": "relu", "nonzero_weights": 500},
  {"op": "dense", "units": 10, "nonzero_weights": 240}]})";

const char* const kSmall = R"({"name": "small", "input": {"shape": [4, 4, 1]},
  "layers": [{"op": "conv2d", "filters": 2, "kernel": 3}, {"op": "flatten"},
             {"op": "dense", "units": 3}]})";

std::vector<int8_t> SmallInput() {
    std::vector<int8_t> input(16);
    for (int i = 0; i < 16; ++i) input[static_cast<size_t>(i)] = static_cast<int8_t>(i * 13 - 100);
    return input;
}

// The index of the first line that starts with `prefix` at or after `from`; lines.size() if none.
size_t Find(const std::vector<std::string>& lines, const std::string& prefix, size_t from = 0) {
    for (size_t i = from; i < lines.size(); ++i) {
        if (lines[i].rfind(prefix, 0) == 0) return i;
    }
    return lines.size();
}

// The bottlenecks model really runs layers in place, of both kinds.
TEST(FirmwarePlan, TheBottlenecksModelRunsLayersInPlace) {
    const arch::MemoryPlan plan = arch::PlanMemory(arch::Analyze(arch::ModelFromJson(kBottlenecks)),
                                                   arch::PlanStrategy::kBest);
    auto uses = [&](arch::Kernel k) {
        return std::count(plan.kernels.begin(), plan.kernels.end(), k);
    };
    EXPECT_GE(uses(arch::Kernel::kDepthwiseInPlace), 1) << plan.order;
    EXPECT_GE(uses(arch::Kernel::kConv1x1InPlace), 1) << plan.order;
}

// The pruned model's plan calls both sparse kernels, and keeps its unpruned
// layer dense.
TEST(FirmwarePlan, ThePrunedModelRunsTheSparseKernels) {
    const arch::MemoryPlan plan =
        arch::PlanMemory(arch::Analyze(arch::ModelFromJson(kSparse)), arch::PlanStrategy::kBest);
    auto uses = [&](arch::Kernel k) {
        return std::count(plan.kernels.begin(), plan.kernels.end(), k);
    };
    EXPECT_EQ(uses(arch::Kernel::kConvSparse), 3) << plan.order;
    EXPECT_EQ(uses(arch::Kernel::kFullyConnectedSparse), 1) << plan.order;
    EXPECT_EQ(plan.kernels.back(), arch::Kernel::kFullyConnected);
}

// A model (IR JSON) and a runtime variant.
class FirmwareOnQemu : public ::testing::TestWithParam<std::tuple<const char*, std::string>> {};

TEST_P(FirmwareOnQemu, OutputsEqualTheHostRuntimeBitForBit) {
    const auto& [json, variant] = GetParam();
    const arch::Model model = arch::ModelFromJson(json);
    const v1::Int8Model artifact = artifact::RandomArtifact(model, 2024);
    firmware::HostModel host(artifact);
    testing::TempDir dir;
    firmware::BuildOptions options;
    options.board = "qemu-netduinoplus2";
    options.out_dir = dir / "fw";
    options.runtime_variant = variant;
    const firmware::FirmwareBuild build = firmware::BuildFirmware(artifact, options);
    std::printf("firmware (%s kernels): flash %lld bytes, static RAM %lld bytes, arena %lld\n",
                variant.c_str(), static_cast<long long>(build.sizes.flash_bytes()),
                static_cast<long long>(build.sizes.static_ram_bytes()),
                static_cast<long long>(build.arena_bytes));

    agent::QemuBoard board(agent::QemuOptions{build.elf});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    EXPECT_EQ(dut.Name(), "hilnas");
    EXPECT_EQ(dut.Command("hilnas").Value("m-hilnas-board-"), "qemu-netduinoplus2");
    EXPECT_EQ(dut.Command("profile").Value("m-model-"), model.name);

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
        // shift 3) differs only by the clock's quantisation, under one
        // instruction, and by the SysTick handler (five instructions) of each
        // wrap of its 24-bit counter that a run crosses and another does not.
        const double wraps = std::ceil(static_cast<double>(inf.max_ticks) / (1u << 24));
        EXPECT_LE(static_cast<double>(inf.max_ticks - inf.min_ticks),
                  (1.0 + 5.0 * wraps) / board.InstructionsPerTick())
            << "min " << inf.min_ticks << " max " << inf.max_ticks << " ticks";
        ASSERT_EQ(inf.lap_ticks.size(), 2u);
        EXPECT_EQ(inf.lap_ticks[0] + inf.lap_ticks[1], inf.total_ticks);
        EXPECT_GT(inf.stack_high_water_bytes, 0u);
        EXPECT_LT(inf.stack_high_water_bytes, inf.stack_size_bytes);
    }
}

INSTANTIATE_TEST_SUITE_P(Kernels, FirmwareOnQemu,
                         ::testing::Combine(::testing::Values(kResidual4Bit, kDepthwise4Bit,
                                                              kBottlenecks, kSparse),
                                            ::testing::Values("cortex_m", "reference")));

// The small model's firmware, built once per fault for the whole suite.
class SmallFirmwareOnQemu : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<testing::TempDir>();
        artifact_ = std::make_unique<v1::Int8Model>(
            artifact::RandomArtifact(arch::ModelFromJson(kSmall), 1));
    }
    static void TearDownTestSuite() {
        builds_.clear();
        artifact_.reset();
        dir_.reset();
    }
    // The ELF for `fault` ("" for none), built on first use.
    static const std::string& Elf(const std::string& fault = "") {
        auto it = builds_.find(fault);
        if (it == builds_.end()) {
            firmware::BuildOptions options;
            options.board = "qemu-netduinoplus2";
            options.out_dir = *dir_ / ("fw-" + (fault.empty() ? std::string("plain") : fault));
            options.fault = fault;
            it = builds_.emplace(fault, firmware::BuildFirmware(*artifact_, options).elf).first;
        }
        return it->second;
    }
    static const v1::Int8Model& Artifact() { return *artifact_; }

  private:
    static std::unique_ptr<testing::TempDir> dir_;
    static std::unique_ptr<v1::Int8Model> artifact_;
    static std::map<std::string, std::string> builds_;
};

std::unique_ptr<testing::TempDir> SmallFirmwareOnQemu::dir_;
std::unique_ptr<v1::Int8Model> SmallFirmwareOnQemu::artifact_;
std::map<std::string, std::string> SmallFirmwareOnQemu::builds_;

TEST_F(SmallFirmwareOnQemu, BootsAndAnswersNameAsTheReferenceFirmwareDoes) {
    agent::QemuBoard board(agent::QemuOptions{Elf()});
    // The boot, read raw: th_timestamp_initialize's mode line and timestamp,
    // then ee_benchmark_initialize's m-init-done and m-ready.
    std::string boot;
    while (boot.find("m-ready\r\n") == std::string::npos) {
        ASSERT_TRUE(board.Read(boot, std::chrono::seconds(30))) << "no boot lines: " << boot;
    }
    std::vector<std::string> lines;
    for (size_t pos = 0, nl; (nl = boot.find("\r\n", pos)) != std::string::npos; pos = nl + 2) {
        lines.push_back(boot.substr(pos, nl - pos));
    }
    ASSERT_EQ(lines.size(), 4u) << boot;
    EXPECT_EQ(lines[0], "m-timestamp-mode-performance");
    EXPECT_THAT(lines[1], StartsWith("m-lap-us-"));
    EXPECT_EQ(lines[2], "m-init-done");
    EXPECT_EQ(lines[3], "m-ready");

    agent::DutClient dut(board);
    // EE_MSG_NAME "m-name-%s-[%s]\r\n" with EE_DEVICE_NAME "dut" and the vendor string.
    EXPECT_THAT(dut.Command("name").lines, ElementsAre("m-name-dut-[hilnas]"));
    EXPECT_EQ(dut.Name(), "hilnas");
    // The board is ours to tell, on our own command.
    EXPECT_EQ(dut.Command("hilnas").Value("m-hilnas-board-"), "qemu-netduinoplus2");
}

TEST_F(SmallFirmwareOnQemu, TimestampsAreMicrosecondsThatIncrease) {
    agent::QemuBoard board(agent::QemuOptions{Elf()});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    const agent::Reply r = dut.Command("timestamp");
    ASSERT_EQ(r.lines.size(), 1u);
    EXPECT_THAT(r.lines[0], ::testing::MatchesRegex("m-lap-us-[0-9]+"));
    uint64_t last = std::stoull(r.lines[0].substr(9));
    for (int i = 0; i < 5; ++i) {
        const std::optional<uint64_t> t = dut.Timestamp();
        ASSERT_TRUE(t.has_value());
        EXPECT_GT(*t, last) << "timestamp " << i;
        last = t.value_or(last);
    }
}

TEST_F(SmallFirmwareOnQemu, InferReportsEveryRunsTicksOutsideTheTimestampWindow) {
    agent::QemuBoard board(agent::QemuOptions{Elf()});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    dut.LoadInput(SmallInput());

    // As the reference's ee_infer: the two timestamps bracket the timed runs
    // with nothing between them; the lap lines come after, one per run.
    const agent::Reply raw = dut.Command("infer 5 2");
    ASSERT_TRUE(raw.error().empty()) << raw.error();
    const size_t start = Find(raw.lines, "m-lap-us-");
    ASSERT_GT(start, 0u);
    const size_t end = Find(raw.lines, "m-lap-us-", start + 1);
    ASSERT_LT(end, raw.lines.size());
    EXPECT_EQ(end, start + 1) << "serial output inside the timestamp window";
    EXPECT_EQ(raw.lines[start - 1], "m-infer-start-5");
    EXPECT_EQ(raw.lines[end + 1], "m-infer-done");
    EXPECT_EQ(Find(raw.lines, "m-hilnas-lap-"), Find(raw.lines, "m-hilnas-ticks-") - 5);

    // More runs than the harness buffers: still exactly one lap line per run.
    for (const int runs : {5, 130}) {
        const agent::Inference inf = dut.Infer(runs, 1);
        ASSERT_EQ(inf.lap_ticks.size(), static_cast<size_t>(runs));
        EXPECT_EQ(std::accumulate(inf.lap_ticks.begin(), inf.lap_ticks.end(), uint64_t{0}),
                  inf.total_ticks);
        EXPECT_EQ(*std::min_element(inf.lap_ticks.begin(), inf.lap_ticks.end()), inf.min_ticks);
        EXPECT_EQ(*std::max_element(inf.lap_ticks.begin(), inf.lap_ticks.end()), inf.max_ticks);
        // The window holds every timed run: its length in microseconds (each
        // end rounded down) is at least the runs' ticks in microseconds.
        ASSERT_GT(inf.lap_us_end, inf.lap_us_start);
        EXPECT_GT((inf.lap_us_end - inf.lap_us_start + 1) * inf.timer_hz,
                  inf.total_ticks * 1'000'000u);
        EXPECT_EQ(inf.output, firmware::HostModel(Artifact()).Run(SmallInput()));
    }
}

TEST_F(SmallFirmwareOnQemu, BadCommandsGetAnErrorAndTheDeviceKeepsAnswering) {
    agent::QemuBoard board(agent::QemuOptions{Elf()});
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
        EXPECT_EQ(dut.Name(), "hilnas")
            << "still answering after '" << command.substr(0, 40) << "'";
    }
    // A truncated load: the bytes that arrived stay, infer refuses until all did.
    EXPECT_TRUE(dut.Command("db load 16").error().empty());
    EXPECT_TRUE(dut.Command("db 0102030405").error().empty());
    EXPECT_THAT(dut.Command("db 0g").error(), HasSubstr("Invalid hex digit"));
    EXPECT_THAT(dut.Command("db 012").error(), HasSubstr("Insufficient number of hex digits"));
    EXPECT_THAT(dut.Command("infer 1 0").error(), HasSubstr("No input"));
    // And after all that, a real inference still matches the host.
    dut.LoadInput(SmallInput());
    EXPECT_EQ(dut.Infer(1, 0).output, firmware::HostModel(Artifact()).Run(SmallInput()));
}

TEST_F(SmallFirmwareOnQemu, AHangOnInferBuildStopsAnswering) {
    agent::QemuBoard board(agent::QemuOptions{Elf("hang-on-infer")});
    agent::DutClient dut(board, std::chrono::seconds(3));
    dut.WaitForBoot();
    EXPECT_EQ(dut.Name(), "hilnas");
    dut.LoadInput(SmallInput());
    EXPECT_THROW(dut.Infer(1, 0), Unavailable);
    EXPECT_THROW(dut.Name(), Unavailable) << "a hung board answers nothing more";
}

TEST_F(SmallFirmwareOnQemu, AWrongOutputBuildReportsOneBitOff) {
    agent::QemuBoard board(agent::QemuOptions{Elf("wrong-output")});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    dut.LoadInput(SmallInput());
    const agent::Inference inf = dut.Infer(2, 0);
    const std::vector<int8_t> expected = firmware::HostModel(Artifact()).Run(SmallInput());
    ASSERT_EQ(inf.output.size(), expected.size());
    EXPECT_NE(inf.output, expected);
    EXPECT_EQ(static_cast<uint8_t>(inf.output[0]) ^ static_cast<uint8_t>(expected[0]), 1u);
    EXPECT_TRUE(std::equal(inf.output.begin() + 1, inf.output.end(), expected.begin() + 1));
}

// A serial link that answers each command with a scripted reply: the host
// side's parsing of replies that QEMU cannot produce (energy mode has no
// emulated board).
class ScriptedLink : public agent::SerialLink {
  public:
    explicit ScriptedLink(std::map<std::string, std::string> replies)
        : replies_(std::move(replies)) {}
    void Write(std::string_view bytes) override {
        const std::string command(bytes.substr(0, bytes.size() - 1));  // without '%'
        pending_ += replies_.at(command) + "m-ready\r\n";
    }
    bool Read(std::string& out, std::chrono::milliseconds) override {
        if (pending_.empty()) return false;
        out += pending_;
        pending_.clear();
        return true;
    }

  private:
    std::map<std::string, std::string> replies_;
    std::string pending_;
};

// What energy-mode firmware prints for infer 3 1: no timestamps (they are pin
// edges) and no lap lines.
constexpr char kEnergyInfer[] =
    "m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-3\r\nm-infer-done\r\n"
    "m-results-[0.500000,-0.250000]\r\nm-hilnas-output-[02ff]\r\n"
    // CRC-32 of 02 ff, from Python's zlib.crc32(bytes([2, 0xff])).
    "m-hilnas-checksum-[5eed9ff0]\r\nm-hilnas-timer-[dwt-cyccnt]-[180000000]-[180000000]\r\n"
    "m-hilnas-ticks-[300]-[3]-[90]-[110]\r\nm-hilnas-arena-[64]\r\n"
    "m-hilnas-stack-[512]-[8192]\r\n";

TEST(DutClientReplies, EnergyModeHasNoTimesAndNoLaps) {
    ScriptedLink link(
        {{"name", "m-name-dut-[hilnas]\r\n"}, {"timestamp", ""}, {"infer 3 1", kEnergyInfer}});
    agent::DutClient dut(link);
    EXPECT_EQ(dut.Name(), "hilnas");
    EXPECT_EQ(dut.Timestamp(), std::nullopt);
    const agent::Inference inf = dut.Infer(3, 1);
    EXPECT_EQ(inf.output, (std::vector<int8_t>{2, -1}));
    EXPECT_EQ(inf.total_ticks, 300u);
    EXPECT_EQ(inf.runs, 3u);
    EXPECT_TRUE(inf.lap_ticks.empty());
    EXPECT_EQ(inf.lap_us_start, 0u);
    EXPECT_EQ(inf.lap_us_end, 0u);
}

TEST(DutClientReplies, MalformedNamesAndLapsAreRefused) {
    std::string two_laps = kEnergyInfer;
    two_laps.insert(two_laps.find("m-hilnas-ticks-"),
                    "m-hilnas-lap-[100]\r\nm-hilnas-lap-[200]\r\n");
    std::string one_time = kEnergyInfer;
    one_time.insert(one_time.find("m-infer-done"), "m-lap-us-12\r\n");
    std::string garbled = kEnergyInfer;  // the output's hex garbled on the line
    garbled.replace(garbled.find("[02ff]"), 6, "[03ff]");
    ScriptedLink link({{"name", "m-name-hilnas-[qemu-netduinoplus2]\r\n"},
                       {"timestamp", "m-lap-us-x\r\n"},
                       {"infer 3 1", two_laps},
                       {"infer 3 2", one_time},
                       {"infer 3 3", garbled}});
    agent::DutClient dut(link);
    EXPECT_THROW(dut.Name(), Unavailable) << "not the reference's m-name-dut-[...]";
    EXPECT_THROW(dut.Timestamp(), Unavailable);
    EXPECT_THROW(dut.Infer(3, 1), Unavailable) << "two lap lines for three runs";
    EXPECT_THROW(dut.Infer(3, 2), Unavailable) << "one m-lap-us line, not two";
    try {
        dut.Infer(3, 3);
        ADD_FAILURE() << "a garbled output was accepted";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.what(), HasSubstr("checksum does not match"));
    }
}

}  // namespace
}  // namespace hilnas
