// Kernel benchmark under QEMU: for each kernel at a typical shape, firmware
// with a one-layer model is built twice (reference and Cortex-M DSP kernels),
// run on the emulated STM32F405, and timed by the harness. Under -icount the
// harness's ticks count instructions, so the figures are instructions per MAC
// (or per output element for kernels without MACs): an instruction-count
// proxy for speed, not cycles. The reference build is the baseline.
//
//   build/tests/bench/hilnas-bench-kernels [--runs N]
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "hilnas/agent/dut.h"
#include "hilnas/agent/qemu.h"
#include "hilnas/arch/cost.h"
#include "hilnas/firmware/artifact.h"
#include "hilnas/firmware/build.h"

namespace {

using namespace hilnas;

struct Case {
    const char* name;
    const char* shape;
    const char* model;  // IR JSON
};

const Case kCases[] = {
    {"conv2d 3x3 s8", "16x16x16 -> 16",
     R"({"input": {"shape": [16, 16, 16]}, "layers": [{"op": "conv2d", "filters": 16, "kernel": 3, "padding": "same"}]})"},
    {"conv2d 3x3 s4", "16x16x16 -> 16",
     R"({"input": {"shape": [16, 16, 16]}, "layers": [{"op": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "weight_bits": 4}]})"},
    {"conv2d 1x1 s8", "16x16x32 -> 32",
     R"({"input": {"shape": [16, 16, 32]}, "layers": [{"op": "conv2d", "filters": 32, "kernel": 1}]})"},
    {"depthwise 3x3", "16x16x32",
     R"({"input": {"shape": [16, 16, 32]}, "layers": [{"op": "depthwise_conv2d", "kernel": 3, "padding": "same"}]})"},
    {"dense s8", "512 -> 64",
     R"({"input": {"shape": [1, 1, 512]}, "layers": [{"op": "dense", "units": 64}]})"},
    {"dense s4", "512 -> 64",
     R"({"input": {"shape": [1, 1, 512]}, "layers": [{"op": "dense", "units": 64, "weight_bits": 4}]})"},
    {"max_pool 2x2", "32x32x16",
     R"({"input": {"shape": [32, 32, 16]}, "layers": [{"op": "max_pool", "pool": 2}]})"},
    {"avg_pool 2x2", "32x32x16",
     R"({"input": {"shape": [32, 32, 16]}, "layers": [{"op": "avg_pool", "pool": 2}]})"},
    {"global_avg_pool", "8x8x64",
     R"({"input": {"shape": [8, 8, 64]}, "layers": [{"op": "global_avg_pool"}]})"},
    {"add", "16x16x32",
     R"({"input": {"shape": [16, 16, 32]}, "layers": [{"op": "add", "inputs": ["input", "input"]}]})"},
};

// Instructions per inference of `artifact` with `variant` kernels.
double Instructions(const v1::Int8Model& artifact, const std::string& variant,
                    const std::string& dir, int runs) {
    firmware::BuildOptions options;
    options.board = "qemu-netduinoplus2";
    options.out_dir = dir;
    options.runtime_variant = variant;
    const auto build = firmware::BuildFirmware(artifact, options);
    agent::QemuBoard board(agent::QemuOptions{build.elf});
    agent::DutClient dut(board);
    dut.WaitForBoot();
    const auto g = arch::Analyze(arch::ModelFromProto(artifact.model()));
    std::vector<int8_t> input(static_cast<size_t>(g.tensors.front().elements()));
    std::mt19937 rng(1);
    for (auto& v : input) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    dut.LoadInput(input);
    const auto inf = dut.Infer(runs, 1);
    return static_cast<double>(inf.min_ticks) * board.InstructionsPerTick();
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
    }
    const std::string dir = (std::filesystem::temp_directory_path() /
                             ("hilnas-bench-kernels-" + std::to_string(::getpid())))
                                .string();
    std::printf("Instructions per MAC (or per output element) under QEMU -icount, %s\n",
                agent::QemuBoard::Version().c_str());
    std::printf("%-16s %-16s %10s %8s %12s %12s %9s\n", "kernel", "shape", "work", "unit",
                "reference", "cortex_m", "speed-up");
    double log_sum = 0;
    int n = 0;
    for (const Case& c : kCases) {
        const arch::Model model = arch::ModelFromJson(c.model);
        const auto graph = arch::Analyze(model);
        const auto cost = arch::ComputeCost(graph);
        const bool macs = cost.macs > 0;
        const double work = static_cast<double>(macs ? cost.macs : graph.tensors.back().elements());
        const auto artifact = firmware::RandomArtifact(model, 7);
        try {
            const double ref = Instructions(artifact, "reference", dir + "/ref", runs) / work;
            const double opt = Instructions(artifact, "cortex_m", dir + "/opt", runs) / work;
            std::printf("%-16s %-16s %10.0f %8s %12.2f %12.2f %8.2fx\n", c.name, c.shape, work,
                        macs ? "MAC" : "output", ref, opt, ref / opt);
            log_sum += std::log(ref / opt);
            ++n;
        } catch (const std::exception& e) {
            std::printf("%-16s failed: %s\n", c.name, e.what());
        }
    }
    std::printf(
        "geometric mean speed-up of the DSP kernels over the reference: %.2fx (%d kernels)\n",
        std::exp(log_sum / std::max(n, 1)), n);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return n == static_cast<int>(std::size(kCases)) ? 0 : 1;
}
