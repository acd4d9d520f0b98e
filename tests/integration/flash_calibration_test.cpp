// The cost model's flash figure against real builds (issue #14): for every
// board of the catalogue, models sampled from a broad space (every block kind,
// 1×1 to 5×5 kernels, 4- and 8-bit weights, every pooling, some layers with
// sparse weights: arch::FlashCalibrationModel) are built into
// firmware, and the prediction must be within 3% of the ELF's .text + .rodata
// + .data. It fails when the firmware or the toolchain drifts from the
// calibration in services/arch/src/flash_calibration.inc: run
//   build/firmware/codegen/hilnas-calibrate-flash --write services/arch/src/flash_calibration.inc
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/flash.h"
#include "hilnas/arch/model.h"
#include "hilnas/arch/space.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/build.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::firmware {
namespace {

constexpr int kModelsPerBoard = 5;

TEST(FlashCalibration, EveryBoardAndRuntimeIsCalibrated) {
    for (const catalog::BoardType& board : catalog::BoardTypes()) {
        for (const char* runtime : {"cortex_m", "reference"}) {
            const arch::FlashCalibration& c = arch::FindFlashCalibration(board.name, runtime);
            EXPECT_GE(c.builds, 8) << board.name << " " << runtime;
            EXPECT_GT(c.base_bytes, 0) << board.name << " " << runtime;
        }
    }
    try {
        arch::FindFlashCalibration("no-such-board");
        ADD_FAILURE() << "an unknown board has a calibration";
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "board");
    }
}

TEST(FlashCalibration, PredictsEveryBoardsFirmwareWithin3Percent) {
    testing::TempDir dir;
    for (const catalog::BoardType& board : catalog::BoardTypes()) {
        std::mt19937_64 rng(20261130);
        BuildOptions options;
        options.board = board.name;
        options.out_dir = dir / board.name;  // one build tree per board: only model.c recompiles
        int built = 0;
        for (int n = 0; built < kModelsPerBoard && n < 20 * kModelsPerBoard; ++n) {
            const arch::Model model =
                arch::FlashCalibrationModel(rng, "flash-" + std::to_string(n));
            const arch::Graph g = arch::Analyze(model);
            const arch::CostReport cost = arch::ComputeCost(g, arch::PlanStrategy::kBest,
                                                            arch::RuntimeScratchBytes, board.name);
            if (cost.weight_bytes > board.flash_bytes / 2 ||
                cost.arena_bytes > board.sram_bytes / 2) {
                continue;
            }
            const FirmwareBuild fw = BuildFirmware(artifact::RandomArtifact(model, 7 + n), options);
            ++built;
            const int64_t measured = fw.sizes.flash_bytes();
            const double error =
                static_cast<double>(cost.flash_bytes - measured) / static_cast<double>(measured);
            EXPECT_LE(std::abs(error), 0.03)
                << board.name << " model " << n << ": predicted " << cost.flash_bytes
                << " B, the ELF has " << measured
                << " B. The firmware or the toolchain drifted from the calibration: run "
                   "build/firmware/codegen/hilnas-calibrate-flash --write "
                   "services/arch/src/flash_calibration.inc";
            std::printf("%-20s model %2d: predicted %7lld B, built %7lld B (%+.2f%%)\n",
                        board.name.c_str(), n, static_cast<long long>(cost.flash_bytes),
                        static_cast<long long>(measured), 100 * error);
        }
        EXPECT_EQ(built, kModelsPerBoard) << board.name;
    }
}

// A small model with a residual add and an 8-bit classifier: the add's few
// calibration builds must not charge it the 4-bit kernels they happened to call.
TEST(FlashCalibration, PredictsTheTinyExampleWithin3Percent) {
    testing::TempDir dir;
    std::ifstream in(testing::SourcePath("examples/tiny.json"));
    std::ostringstream text;
    text << in.rdbuf();
    const arch::Model model = arch::ModelFromJson(text.str());
    BuildOptions options;
    options.board = std::string(arch::kDefaultFlashBoard);
    options.out_dir = dir / "tiny";
    const FirmwareBuild fw = BuildFirmware(artifact::RandomArtifact(model, 1), options);
    const int64_t predicted = arch::ComputeCost(arch::Analyze(model)).flash_bytes;
    const int64_t measured = fw.sizes.flash_bytes();
    EXPECT_LE(std::abs(static_cast<double>(predicted - measured)), 0.03 * measured)
        << "predicted " << predicted << " B, the ELF has " << measured << " B";
}

// A pruned model stored sparse (issue #11): the prediction holds for the
// sparse build, which the cost model predicts, and the weights it stores are
// the cost model's exactly. The same artifact built dense
// (BuildOptions::sparse_weights = false, the kernel benchmark's comparison) is
// larger by about the weight bytes the sparse layout saves.
TEST(FlashCalibration, PredictsAPrunedModelStoredSparseWithin3Percent) {
    testing::TempDir dir;
    const arch::Model model =
        arch::ModelFromJson(R"({"name": "pruned", "input": {"shape": [28, 28, 1]},
      "layers": [
        {"op": "conv2d", "filters": 16, "kernel": 5, "activation": "relu", "nonzero_weights": 80},
        {"op": "max_pool", "pool": 2},
        {"op": "conv2d", "filters": 32, "kernel": 5, "activation": "relu", "nonzero_weights": 2560},
        {"op": "max_pool", "pool": 2},
        {"op": "flatten"},
        {"op": "dense", "units": 64, "activation": "relu", "nonzero_weights": 6554},
        {"op": "dense", "units": 10, "nonzero_weights": 128}]})");
    const v1::Int8Model artifact = artifact::RandomArtifact(model, 3);
    const arch::Graph g = arch::Analyze(model);
    const arch::CostReport cost = arch::ComputeCost(g);
    BuildOptions options;
    options.board = std::string(arch::kDefaultFlashBoard);
    options.out_dir = dir / "sparse";
    const FirmwareBuild sparse = BuildFirmware(artifact, options);
    EXPECT_EQ(sparse.weight_bytes, cost.weight_bytes);
    const int64_t measured = sparse.sizes.flash_bytes();
    EXPECT_LE(std::abs(static_cast<double>(cost.flash_bytes - measured)), 0.03 * measured)
        << "predicted " << cost.flash_bytes << " B, the ELF has " << measured << " B";
    options.out_dir = dir / "dense";
    options.sparse_weights = false;
    const FirmwareBuild dense = BuildFirmware(artifact, options);
    arch::Model unpruned = model;
    for (arch::Layer& l : unpruned.layers) l.nonzero_weights.reset();
    const arch::CostReport dense_cost = arch::ComputeCost(arch::Analyze(unpruned));
    EXPECT_EQ(dense.weight_bytes, dense_cost.weight_bytes);
    const int64_t saved = dense_cost.weight_bytes - cost.weight_bytes;
    EXPECT_GT(saved, dense_cost.weight_bytes / 2);
    // Smaller by the weights saved, give or take the kernels' code: the two
    // builds link different kernels (a few KB either way).
    EXPECT_NEAR(static_cast<double>(dense.sizes.flash_bytes() - measured),
                static_cast<double>(saved), 8192);
    std::printf(
        "pruned LeNet: dense %lld B, sparse %lld B (predicted %lld B), weights %lld -> %lld B\n",
        static_cast<long long>(dense.sizes.flash_bytes()), static_cast<long long>(measured),
        static_cast<long long>(cost.flash_bytes), static_cast<long long>(dense_cost.weight_bytes),
        static_cast<long long>(cost.weight_bytes));
}

}  // namespace
}  // namespace hilnas::firmware
