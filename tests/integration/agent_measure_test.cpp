// One measurement through the real agent path: the firmware cache, the QEMU
// board, the MLPerf Tiny protocol, the on-device output check against the
// host runtime on Fashion-MNIST validation images, and the figures. Then the
// failure paths: a firmware that hangs is caught by the time-out, the board is
// recovered and the next measurement succeeds; a model too large for the part
// is infeasible; a board that cannot come up is the board's fault.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "hilnas/agent/board.h"
#include "hilnas/agent/firmware_cache.h"
#include "hilnas/agent/health.h"
#include "hilnas/agent/measure.h"
#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/firmware/build.h"
#include "hilnas/firmware/host_model.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::agent {
namespace {

using ::testing::HasSubstr;

// A small Fashion-MNIST CNN of the search space's kind.
constexpr const char* kFashionCnn = R"({"name": "fm-small", "input": {"shape": [28, 28, 1]},
  "layers": [
    {"op": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "padding": "same", "activation": "relu"},
    {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "conv2d", "filters": 12, "kernel": 1, "activation": "relu"},
    {"op": "max_pool", "pool": 2},
    {"op": "global_avg_pool"},
    {"op": "dense", "units": 10}]})";

BoardConfig Qemu() {
    BoardConfig b = DefaultInventory().boards.front();
    b.command_timeout = std::chrono::seconds(20);
    return b;
}

std::vector<std::vector<int8_t>> ValidationInputs(int k) {
    dataset::Options o;
    o.validation_limit = k;
    const dataset::Dataset d = dataset::Load(o);
    std::vector<std::vector<int8_t>> out;
    for (int i = 0; i < k; ++i) out.push_back(dataset::Int8Input(d.validation, i));
    return out;
}

class AgentMeasure : public ::testing::Test {
  protected:
    // One firmware cache for the suite: the health-check firmware is built once.
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir;
        cache_ = new FirmwareCache(*dir_ / "cache");
    }
    static void TearDownTestSuite() {
        delete cache_;
        delete dir_;
    }
    static testing::TempDir* dir_;
    static FirmwareCache* cache_;
    BoardConfig board_ = Qemu();
    std::unique_ptr<BoardConnection> connection_ = Connect(board_);
    Measurer measurer_{board_, *connection_, *cache_, nullptr, "test-agent"};

    MeasureRequest Request(const v1::Int8Model& model) {
        MeasureRequest r;
        r.model = model;
        r.settings.set_warmup_runs(1);
        r.settings.set_timed_runs(7);
        r.settings.set_check_inputs(3);
        r.inputs = ValidationInputs(3);
        r.inputs_source = "fashion-mnist validation[0..2]";
        return r;
    }
};

testing::TempDir* AgentMeasure::dir_ = nullptr;
FirmwareCache* AgentMeasure::cache_ = nullptr;

TEST_F(AgentMeasure, MeasuresAGeneratedModelOnTheEmulatedBoard) {
    const arch::Model model = arch::ModelFromJson(kFashionCnn);
    const v1::Int8Model artifact = artifact::RandomArtifact(model, 11);
    const MeasureResult r = measurer_.Measure(Request(artifact));
    const v1::Measurement& m = r.measurement;
    const catalog::BoardType& type = catalog::FindBoardType("qemu-netduinoplus2");

    // The board computed what the host runtime computes, on every check input.
    EXPECT_TRUE(m.outputs_match_host());
    EXPECT_EQ(m.outputs_checked(), 3);
    // The arena the board reports is the one the planner made.
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(model));
    EXPECT_EQ(m.sram().arena_bytes(), cost.arena_bytes);
    EXPECT_EQ(m.sram().arena_bytes(), firmware::HostModel(artifact).arena_bytes());
    // SRAM = .data + .bss (arena included) + stack high-water, and flash = .text
    // (with the vectors and unwind index) + .rodata + .data, against the ELF as
    // arm-none-eabi-size reads it here.
    ProcessOptions size;
    size.argv = {"arm-none-eabi-size", "-A", "-d", r.elf_path};
    size.timeout = std::chrono::seconds(30);
    const ProcessResult sized = RunProcess(size);
    ASSERT_TRUE(sized.ok()) << sized.err;
    const firmware::ElfSizes elf = firmware::ParseSizeOutput(sized.out);
    EXPECT_GT(m.sram().stack_bytes(), 0);
    EXPECT_LT(m.sram().stack_bytes(), elf.stack) << "the high-water mark is inside the stack";
    EXPECT_EQ(m.sram().total_bytes(), elf.data + elf.bss + m.sram().stack_bytes());
    EXPECT_EQ(m.sram().static_bytes(), elf.data + elf.bss - cost.arena_bytes);
    EXPECT_LE(m.sram().total_bytes(), type.sram_bytes);
    EXPECT_EQ(m.flash().total_bytes(),
              elf.isr_vector + elf.text + elf.exidx + elf.rodata + elf.data);
    EXPECT_EQ(m.flash().rodata_bytes(), elf.rodata);
    EXPECT_GE(m.flash().rodata_bytes(), cost.weight_bytes);
    // Timing: emulated (instruction counts), median between p10 and p90.
    EXPECT_EQ(m.source(), v1::METRIC_SOURCE_EMULATED);
    EXPECT_GT(m.latency_ms(), 0);
    EXPECT_LE(m.latency_p10_ms(), m.latency_ms());
    EXPECT_LE(m.latency_ms(), m.latency_p90_ms());
    EXPECT_GT(m.cycles(), 0u);
    // No meter: energy is the catalogue's estimate, never 0, and says so.
    EXPECT_EQ(m.energy_source(), v1::METRIC_SOURCE_ESTIMATED);
    EXPECT_DOUBLE_EQ(m.energy_uj(), catalog::EstimatedEnergyUj(type, m.latency_ms()));
    EXPECT_GT(m.energy_uj(), 0);
    // Provenance.
    const v1::Provenance& p = m.provenance();
    EXPECT_THAT(p.toolchain(), HasSubstr("arm-none-eabi-gcc"));
    EXPECT_EQ(p.firmware_sha256().size(), 64u);
    EXPECT_EQ(p.clock_hz(), type.cpu_hz);
    EXPECT_EQ(p.timing_method(), "systick-icount");
    EXPECT_EQ(p.debugger(), "qemu");
    EXPECT_THAT(p.debugger_version(), HasSubstr("QEMU emulator version"));
    EXPECT_FALSE(p.agent_version().empty());
    EXPECT_EQ(p.warmup_runs(), 1);
    EXPECT_EQ(p.timed_runs(), 7);
    EXPECT_EQ(p.runtime_variant(), "cortex_m");
    EXPECT_EQ(m.board_id(), "qemu-0");
    EXPECT_EQ(m.agent_id(), "test-agent");
    EXPECT_FALSE(r.time.cache_hit);

    // The same model again: the firmware comes from the cache, the figures do not change
    // (emulated time is deterministic).
    const int64_t hits = cache_->hits(), misses = cache_->misses();
    const MeasureResult again = measurer_.Measure(Request(artifact));
    EXPECT_TRUE(again.time.cache_hit);
    EXPECT_EQ(cache_->hits(), hits + 1);
    EXPECT_EQ(cache_->misses(), misses);
    EXPECT_EQ(again.measurement.provenance().firmware_sha256(), p.firmware_sha256());
    EXPECT_EQ(again.measurement.sram().total_bytes(), m.sram().total_bytes());
    EXPECT_EQ(again.measurement.cycles(), m.cycles());
}

TEST_F(AgentMeasure, AHangingFirmwareTimesOutTheBoardRecoversAndTheNextMeasurementSucceeds) {
    board_.command_timeout = std::chrono::seconds(3);
    auto connection = Connect(board_);
    Measurer measurer(board_, *connection, *cache_, nullptr, "test-agent");
    const v1::Int8Model artifact = artifact::RandomArtifact(arch::ModelFromJson(kFashionCnn), 12);
    MeasureRequest hang = Request(artifact);
    hang.fault = "hang-on-infer";
    try {
        measurer.Measure(hang);
        FAIL() << "a hanging firmware was measured";
    } catch (const MeasureError& e) {
        EXPECT_EQ(e.kind(), FailureKind::kBoard);
        EXPECT_THAT(e.what(), HasSubstr("stopped answering"));
    }
    // The health check and the next real measurement on the same board both pass.
    EXPECT_TRUE(CheckHealth(measurer).ok);
    const MeasureResult ok = measurer.Measure(Request(artifact));
    EXPECT_TRUE(ok.measurement.outputs_match_host());
}

TEST_F(AgentMeasure, WrongOutputsFailTheMeasurementAndNeverBecomeFigures) {
    const v1::Int8Model artifact = artifact::RandomArtifact(arch::ModelFromJson(kFashionCnn), 13);
    MeasureRequest req = Request(artifact);
    req.fault = "wrong-output";
    try {
        measurer_.Measure(req);
        FAIL() << "a wrong output was accepted";
    } catch (const MeasureError& e) {
        EXPECT_EQ(e.kind(), FailureKind::kModel);
        EXPECT_THAT(e.what(), HasSubstr("differ from the host runtime on check input 0"));
    }
}

TEST_F(AgentMeasure, AModelLargerThanThePartIsInfeasibleBeforeAnythingIsBuilt) {
    // Two 96-channel convolutions at 28x28: each activation takes 75 KB, and
    // one layer's input and output together exceed the part's 128 KB of SRAM.
    const arch::Model big = arch::ModelFromJson(R"({"name": "big", "input": {"shape": [28, 28, 1]},
      "layers": [{"op": "conv2d", "filters": 96, "kernel": 3, "padding": "same"},
                 {"op": "conv2d", "filters": 96, "kernel": 3, "padding": "same"},
                 {"op": "global_avg_pool"}, {"op": "dense", "units": 10}]})");
    const int64_t misses = cache_->misses();
    try {
        measurer_.Measure(Request(artifact::RandomArtifact(big, 1)));
        FAIL() << "an oversized model was measured";
    } catch (const MeasureError& e) {
        EXPECT_EQ(e.kind(), FailureKind::kInfeasible);
        EXPECT_THAT(e.what(), HasSubstr("does not fit qemu-netduinoplus2"));
    }
    EXPECT_EQ(cache_->misses(), misses) << "nothing was compiled for it";
}

TEST_F(AgentMeasure, ABoardThatCannotComeUpIsABoardFault) {
    BoardConfig broken = board_;
    broken.qemu = "/bin/false";
    auto connection = Connect(broken);
    Measurer measurer(broken, *connection, *cache_, nullptr, "test-agent");
    const HealthResult h = CheckHealth(measurer);
    EXPECT_FALSE(h.ok);
    EXPECT_THAT(h.reason, HasSubstr("health check failed (board)"));
}

// A cache hit is the build it stored, figures and all; the same pruned model
// built with every layer dense (the kernel benchmark's option) is an entry of
// its own, never the sparse build.
TEST_F(AgentMeasure, ACacheHitIsTheStoredBuildAndADenseBuildIsItsOwnEntry) {
    const arch::Model pruned =
        arch::ModelFromJson(R"({"name": "pruned", "input": {"shape": [28, 28, 1]},
      "layers": [
        {"op": "conv2d", "filters": 8, "kernel": 3, "stride": 2, "activation": "relu", "nonzero_weights": 15},
        {"op": "global_avg_pool"},
        {"op": "dense", "units": 10, "nonzero_weights": 16}]})");
    const v1::Int8Model artifact = artifact::RandomArtifact(pruned, 5);
    firmware::BuildOptions options;
    options.board = board_.type;
    const int64_t misses = cache_->misses();
    const CachedFirmware first = cache_->Get(artifact, options);
    const CachedFirmware hit = cache_->Get(artifact, options);
    EXPECT_FALSE(first.hit);
    EXPECT_TRUE(hit.hit);
    EXPECT_EQ(hit.build.weight_bytes, first.build.weight_bytes);
    EXPECT_EQ(hit.build.weight_bytes, arch::ComputeCost(arch::Analyze(pruned)).weight_bytes);
    EXPECT_EQ(hit.build.arena_bytes, first.build.arena_bytes);
    EXPECT_EQ(hit.build.sizes.flash_bytes(), first.build.sizes.flash_bytes());

    options.sparse_weights = false;
    const CachedFirmware dense = cache_->Get(artifact, options);
    EXPECT_FALSE(dense.hit);
    EXPECT_EQ(cache_->misses(), misses + 2);
    EXPECT_GT(dense.build.weight_bytes, first.build.weight_bytes);
    EXPECT_NE(dense.build.elf, first.build.elf);
}

TEST(Percentile, NearestRankOnTheSortedValues) {
    EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.5), 3);
    EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.1), 1);
    EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 0.9), 5);
    EXPECT_EQ(Percentile({7}, 0.1), 7);
    EXPECT_EQ(Percentile({10, 20, 30, 40}, 0.5), 20);
}

}  // namespace
}  // namespace hilnas::agent
