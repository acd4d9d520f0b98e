#include "hilnas/agent/health.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"

namespace hilnas::agent {

namespace {

// Conv, depthwise, 1x1 conv, a residual add, both pools, 4-bit weights and a
// dense head: a board that runs this bit-exactly runs every kernel we have.
constexpr const char* kHealthModel = R"({"name": "health-check", "input": {"shape": [12, 12, 1]},
  "layers": [
    {"id": "c1", "op": "conv2d", "filters": 4, "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "depthwise_conv2d", "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "conv2d", "filters": 4, "kernel": 1, "weight_bits": 4},
    {"op": "add", "inputs": ["c1", "prev"], "activation": "relu"},
    {"op": "max_pool", "pool": 2},
    {"op": "avg_pool", "pool": 2},
    {"op": "flatten"},
    {"op": "dense", "units": 10}]})";

constexpr uint64_t kHealthSeed = 0x6865616c7468;  // "health"

}  // namespace

const v1::Int8Model& HealthCheckModel() {
    static const v1::Int8Model model =
        artifact::RandomArtifact(arch::ModelFromJson(kHealthModel), kHealthSeed);
    return model;
}

HealthResult CheckHealth(Measurer& measurer, const std::string& fault) {
    const auto start = std::chrono::steady_clock::now();
    MeasureRequest req;
    req.model = HealthCheckModel();
    req.settings.set_warmup_runs(1);
    req.settings.set_timed_runs(3);
    req.settings.set_check_inputs(1);
    std::mt19937_64 rng(kHealthSeed);
    std::vector<int8_t> input(12 * 12);
    for (auto& v : input) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    req.inputs = {input};
    req.inputs_source = "the health check's fixed input";
    req.fault = fault;
    HealthResult r;
    try {
        const MeasureResult m = measurer.Measure(req);
        char text[96];
        std::snprintf(text, sizeof text, "health check passed: outputs match; %.3f ms",
                      m.measurement.latency_ms());
        r.ok = true;
        r.reason = text;
    } catch (const MeasureError& e) {
        r.reason =
            std::string("health check failed (") + FailureKindName(e.kind()) + "): " + e.what();
    } catch (const std::exception& e) {
        r.reason = std::string("health check failed: ") + e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace hilnas::agent
