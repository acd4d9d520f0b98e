#include "hilnas/controller/objectives.h"

#include <cctype>
#include <limits>
#include <sstream>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/catalog/objectives.h"
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

std::vector<v1::ObjectiveValue> ComputedObjectives(const v1::Model& model, std::string_view board) {
    const arch::Graph g = arch::Analyze(arch::ModelFromProto(model));
    const arch::CostReport cost =
        arch::ComputeCost(g, arch::PlanStrategy::kBest, arch::RuntimeScratchBytes, board);
    return {Value(v1::OBJECTIVE_FLASH_BYTES, static_cast<double>(cost.flash_bytes),
                  v1::METRIC_SOURCE_COMPUTED),
            Value(v1::OBJECTIVE_SRAM_BYTES, static_cast<double>(cost.sram_bytes),
                  v1::METRIC_SOURCE_COMPUTED),
            Value(v1::OBJECTIVE_MACS, static_cast<double>(cost.macs), v1::METRIC_SOURCE_COMPUTED),
            Value(v1::OBJECTIVE_MODEL_SIZE_BYTES, static_cast<double>(cost.nonzero_weight_bytes),
                  v1::METRIC_SOURCE_COMPUTED)};
}

namespace {

// Every limit a job spec can set, in one table: BreachedLimit and
// LimitConstraints both read it.
struct Limit {
    v1::Objective objective;
    bool set;
    double max;
    const char* field;
};

std::vector<Limit> LimitsOf(const v1::JobSpec& spec) {
    const v1::Constraints& c = spec.constraints();
    return {
        {v1::OBJECTIVE_ERROR, c.has_max_error(), c.max_error(), "max_error"},
        {v1::OBJECTIVE_LATENCY_MS, c.has_max_latency_ms(), c.max_latency_ms(), "max_latency_ms"},
        {v1::OBJECTIVE_ENERGY_UJ, c.has_max_energy_uj(), c.max_energy_uj(), "max_energy_uj"},
        {v1::OBJECTIVE_SRAM_BYTES, c.has_max_sram_bytes(), static_cast<double>(c.max_sram_bytes()),
         "max_sram_bytes"},
        {v1::OBJECTIVE_FLASH_BYTES, c.has_max_flash_bytes(),
         static_cast<double>(c.max_flash_bytes()), "max_flash_bytes"},
        {v1::OBJECTIVE_MACS, c.has_max_macs(), static_cast<double>(c.max_macs()), "max_macs"},
    };
}

}  // namespace

std::string BreachedLimit(const v1::JobSpec& spec,
                          const std::vector<v1::ObjectiveValue>& objectives) {
    for (const Limit& l : LimitsOf(spec)) {
        if (!l.set) continue;
        for (const v1::ObjectiveValue& v : objectives) {
            if (v.objective() != l.objective || !(v.value() > l.max)) continue;
            std::ostringstream why;
            why << catalog::ObjectiveName(l.objective) << " " << v.value() << " ("
                << v1::MetricSource_Name(v.source()).substr(std::string("METRIC_SOURCE_").size())
                << ") exceeds spec.constraints." << l.field << " (" << l.max << ")";
            std::string text = why.str();
            for (char& ch : text)
                ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            return text;
        }
    }
    return {};
}

std::vector<double> LimitConstraints(
    const v1::JobSpec& spec,
    const google::protobuf::RepeatedPtrField<v1::ObjectiveValue>& objectives) {
    std::vector<double> out;
    for (const Limit& l : LimitsOf(spec)) {
        if (!l.set || l.objective == v1::OBJECTIVE_MACS) continue;
        double value = std::numeric_limits<double>::quiet_NaN();
        for (const v1::ObjectiveValue& v : objectives) {
            if (v.objective() == l.objective) value = v.value();
        }
        out.push_back(l.max > 0 ? value / l.max - 1.0 : value - l.max);
    }
    return out;
}

std::vector<v1::Metric> PredictionMetrics(const v1::Model& model, std::string_view board) {
    const arch::CostReport cost =
        arch::ComputeCost(arch::Analyze(arch::ModelFromProto(model)), arch::PlanStrategy::kBest,
                          arch::RuntimeScratchBytes, board);
    std::vector<v1::Metric> out(2);
    out[0].set_name(catalog::kPredictedSramBytes);
    out[0].set_value(static_cast<double>(cost.sram_bytes));
    out[1].set_name(catalog::kPredictedFlashBytes);
    out[1].set_value(static_cast<double>(cost.flash_bytes));
    for (auto& m : out) m.set_source(v1::METRIC_SOURCE_COMPUTED);
    return out;
}

std::vector<v1::ObjectiveValue> TrainingObjectives(const std::vector<v1::Metric>& metrics,
                                                   const v1::Int8Model& artifact,
                                                   std::string_view board) {
    // Selection on the validation split only: the test split's accuracy is
    // stored with the metrics, never turned into an objective.
    const v1::Metric* accuracy = nullptr;
    for (const auto& m : metrics) {
        if (m.name() == catalog::kInt8ValAccuracy) accuracy = &m;
    }
    if (accuracy == nullptr) {
        throw InvalidArgument(std::string("must include ") + catalog::kInt8ValAccuracy +
                                  " (int8 accuracy on the validation split)",
                              "metrics");
    }
    if (!(accuracy->value() >= 0 && accuracy->value() <= 1)) {
        throw InvalidArgument(std::string(catalog::kInt8ValAccuracy) + " must be in [0, 1]",
                              "metrics");
    }
    std::vector<v1::ObjectiveValue> out = ComputedObjectives(artifact.model(), board);
    for (v1::ObjectiveValue& v : out) {  // the trained weights' own count, not the estimate
        if (v.objective() == v1::OBJECTIVE_MODEL_SIZE_BYTES) {
            v.set_value(static_cast<double>(artifact::NonzeroWeightBytes(artifact)));
        }
    }
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
        // An agent that sent no energy figure: MicroNets' estimate, P(board) x latency,
        // from the catalogue's datasheet figures (never 0, always tagged estimated).
        const catalog::BoardType& board =
            catalog::FindBoardType(m.board_type(), "measurement.board_type");
        out.push_back(Value(v1::OBJECTIVE_ENERGY_UJ,
                            catalog::EstimatedEnergyUj(board, m.latency_ms()),
                            v1::METRIC_SOURCE_ESTIMATED));
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
