// The board agent's measurement, timed: for models sampled from the default
// Fashion-MNIST search space, one measurement on the emulated STM32F405 with
// an empty firmware cache (code generation and compilation included), then
// the same measurement again with the cache warm. Prints the time split of
// each step (medians), measurements per minute per board both ways, what the
// cache saves (cold / warm), and the cost model's prediction error against
// the measured SRAM and flash.
//
//   build/tests/bench/hilnas-bench-agent [--models N] [--runs R] [--seed S]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "hilnas/agent/board.h"
#include "hilnas/agent/measure.h"
#include "hilnas/arch/cost.h"
#include "hilnas/arch/space.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/v1/farm_service.pb.h"

namespace {

using namespace hilnas;
using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Split {
    std::vector<double> codegen, compile, flash_boot, inference, report, total;
};

void Record(Split& s, const agent::MeasureResult& r, double report, double total) {
    s.codegen.push_back(r.time.codegen);
    s.compile.push_back(r.time.compile);
    s.flash_boot.push_back(r.time.flash_boot);
    s.inference.push_back(r.time.inference);
    s.report.push_back(report);
    s.total.push_back(total);
}

}  // namespace

int main(int argc, char** argv) {
    int models = 5, runs = 5;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--models") == 0) models = std::atoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::atoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--seed") == 0) seed = std::strtoull(argv[i + 1], nullptr, 10);
    }
    char tmpl[] = "/tmp/hilnas-bench-agent-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    const std::string dir = tmpl;
    agent::BoardConfig board = agent::DefaultInventory().boards.front();
    agent::FirmwareCache cache(dir + "/cache");
    auto connection = agent::Connect(board);
    agent::Measurer measurer(board, *connection, cache, nullptr, "bench");
    const catalog::BoardType& type = catalog::FindBoardType(board.type);

    dataset::Options o;
    o.validation_limit = 3;
    const dataset::Dataset data = dataset::Load(o);
    std::vector<std::vector<int8_t>> inputs;
    for (int i = 0; i < 3; ++i) inputs.push_back(dataset::Int8Input(data.validation, i));

    const arch::SearchSpace space;
    std::mt19937_64 rng(seed);
    Split cold, warm;
    std::vector<double> sram_err, flash_err;
    std::printf("%-4s %8s %9s %10s %10s %9s %9s %10s\n", "", "MACs", "latency", "SRAM pred",
                "SRAM meas", "flash pr", "flash me", "cold/warm");
    for (int n = 0; n < models;) {
        const arch::Model model =
            arch::BuildModel(space, arch::Sample(space, rng), "bench-" + std::to_string(n));
        const arch::CostReport cost = arch::ComputeCost(arch::Analyze(model));
        if (cost.sram_bytes > type.sram_bytes || cost.flash_bytes > type.flash_bytes) continue;
        agent::MeasureRequest req;
        req.model = artifact::RandomArtifact(model, seed + static_cast<uint64_t>(n));
        req.settings.set_warmup_runs(1);
        req.settings.set_timed_runs(runs);
        req.settings.set_check_inputs(3);
        req.inputs = inputs;
        req.inputs_source = "fashion-mnist validation[0..2]";
        double totals[2] = {0, 0};
        agent::MeasureResult last;
        for (int pass = 0; pass < 2; ++pass) {
            const auto t0 = Clock::now();
            last = measurer.Measure(req);
            // Reporting: the CompleteMeasurement request, the ELF attached, serialised
            // (the RPC to the controller is timed in the agent's own log line).
            const auto t1 = Clock::now();
            v1::CompleteMeasurementRequest done;
            *done.mutable_measurement() = last.measurement;
            done.mutable_firmware()->set_kind(v1::ARTIFACT_FIRMWARE_ELF);
            FILE* f = std::fopen(last.elf_path.c_str(), "rb");
            std::string elf;
            for (char buf[65536]; f != nullptr;) {
                const size_t got = std::fread(buf, 1, sizeof buf, f);
                elf.append(buf, got);
                if (got < sizeof buf) break;
            }
            if (f != nullptr) std::fclose(f);
            done.mutable_firmware()->set_data(elf);
            const std::string wire = done.SerializeAsString();
            const double report = std::chrono::duration<double>(Clock::now() - t1).count();
            totals[pass] = std::chrono::duration<double>(Clock::now() - t0).count();
            Record(pass == 0 ? cold : warm, last, report, totals[pass]);
            if (wire.empty()) return 1;
        }
        const v1::Measurement& m = last.measurement;
        sram_err.push_back(std::abs(static_cast<double>(cost.sram_bytes - m.sram().total_bytes())) /
                           static_cast<double>(m.sram().total_bytes()));
        flash_err.push_back(
            std::abs(static_cast<double>(cost.flash_bytes - m.flash().total_bytes())) /
            static_cast<double>(m.flash().total_bytes()));
        std::printf("%-4d %8lld %7.3fms %10lld %10lld %9lld %9lld %9.1fx\n", n,
                    static_cast<long long>(cost.macs), m.latency_ms(),
                    static_cast<long long>(cost.sram_bytes),
                    static_cast<long long>(m.sram().total_bytes()),
                    static_cast<long long>(cost.flash_bytes),
                    static_cast<long long>(m.flash().total_bytes()), totals[0] / totals[1]);
        ++n;
    }
    std::printf(
        "\nTime split of one measurement on %s (median of %d models, %d timed runs, "
        "3 checked inputs; seconds):\n",
        board.type.c_str(), models, runs);
    std::printf("%-28s %10s %10s\n", "step", "cold cache", "warm cache");
    auto row = [](const char* name, const std::vector<double>& c, const std::vector<double>& w) {
        std::printf("%-28s %10.3f %10.3f\n", name, Median(c), Median(w));
    };
    row("code generation", cold.codegen, warm.codegen);
    row("compile (arm-none-eabi-gcc)", cold.compile, warm.compile);
    row("flash / boot (QEMU start)", cold.flash_boot, warm.flash_boot);
    row("inference (load, run, check)", cold.inference, warm.inference);
    row("reporting (request + ELF)", cold.report, warm.report);
    row("total", cold.total, warm.total);
    const double cold_rate = 60.0 / Median(cold.total), warm_rate = 60.0 / Median(warm.total);
    std::printf(
        "\nmeasurements per minute per board: %.1f cold, %.1f warm; the firmware cache "
        "makes a repeated measurement %.1fx faster (cold / warm, same run)\n",
        cold_rate, warm_rate, Median(cold.total) / Median(warm.total));
    std::printf(
        "cost model vs measured (median |error| / measured over %d models): SRAM %.1f%%, "
        "flash %.1f%%\n",
        models, 100 * Median(sram_err), 100 * Median(flash_err));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
}
