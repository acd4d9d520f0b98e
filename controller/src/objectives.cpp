#include "hilnas/controller/objectives.h"

#include "hilnas/arch/cost.h"
#include "hilnas/common/errors.h"
#include "hilnas/controller/job_spec.h"

namespace hilnas::controller {

namespace {

v1::ObjectiveValue Value(v1::Objective o, double value, v1::MetricSource source) {
    v1::ObjectiveValue v;
    v.set_objective(o);
    v.set_value(value);
    v.set_source(source);
    return v;
}

}  // namespace

std::vector<v1::ObjectiveValue> ComputedObjectives(const v1::Model& model) {
    const arch::Graph g = arch::Analyze(arch::ModelFromProto(model));
    const arch::CostReport cost = arch::ComputeCost(g);
    return {Value(v1::OBJECTIVE_FLASH_BYTES, static_cast<double>(cost.flash_bytes),
                  v1::METRIC_SOURCE_COMPUTED),
            Value(v1::OBJECTIVE_SRAM_BYTES, static_cast<double>(cost.arena_bytes),
                  v1::METRIC_SOURCE_COMPUTED),
            Value(v1::OBJECTIVE_MACS, static_cast<double>(cost.macs), v1::METRIC_SOURCE_COMPUTED)};
}

std::vector<v1::ObjectiveValue> TrainingObjectives(const std::vector<v1::Metric>& metrics,
                                                   const v1::Model& model) {
    const v1::Metric* accuracy = nullptr;
    for (const auto& m : metrics) {
        if (m.name() == "int8_accuracy") accuracy = &m;
    }
    if (accuracy == nullptr) throw InvalidArgument("must include int8_accuracy", "metrics");
    if (!(accuracy->value() >= 0 && accuracy->value() <= 1)) {
        throw InvalidArgument("int8_accuracy must be in [0, 1]", "metrics");
    }
    std::vector<v1::ObjectiveValue> out = ComputedObjectives(model);
    out.push_back(Value(v1::OBJECTIVE_ERROR, 1.0 - accuracy->value(), v1::METRIC_SOURCE_EVALUATED));
    return out;
}

std::vector<v1::ObjectiveValue> MeasurementObjectives(const v1::Measurement& m) {
    if (!(m.latency_ms() > 0)) throw InvalidArgument("must be positive", "measurement.latency_ms");
    std::vector<v1::ObjectiveValue> out;
    const v1::MetricSource timing =
        m.source() == v1::METRIC_SOURCE_UNSPECIFIED ? v1::METRIC_SOURCE_MEASURED : m.source();
    out.push_back(Value(v1::OBJECTIVE_LATENCY_MS, m.latency_ms(), timing));
    if (m.energy_source() != v1::METRIC_SOURCE_UNSPECIFIED && m.energy_uj() > 0) {
        out.push_back(Value(v1::OBJECTIVE_ENERGY_UJ, m.energy_uj(), m.energy_source()));
    } else {
        // MicroNets: MCU power is nearly constant, so energy ~ P(board) x latency.
        const BoardLimits limits = LimitsFor(m.board_type(), "measurement.board_type");
        out.push_back(Value(v1::OBJECTIVE_ENERGY_UJ, limits.power_mw * m.latency_ms(),
                            timing == v1::METRIC_SOURCE_EMULATED ? v1::METRIC_SOURCE_EMULATED
                                                                 : v1::METRIC_SOURCE_ESTIMATED));
    }
    if (m.flash().total_bytes() > 0) {
        out.push_back(
            Value(v1::OBJECTIVE_FLASH_BYTES, static_cast<double>(m.flash().total_bytes()), timing));
    }
    if (m.sram().total_bytes() > 0) {
        out.push_back(
            Value(v1::OBJECTIVE_SRAM_BYTES, static_cast<double>(m.sram().total_bytes()), timing));
    }
    return out;
}

}  // namespace hilnas::controller
