#include "validate.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"

namespace hilnas::controller {

namespace {

std::string Number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

std::string At(const std::string& field, int i) { return field + "[" + std::to_string(i) + "]"; }

void Finite(double value, const std::string& field, double lo, double hi) {
    if (!std::isfinite(value)) throw InvalidArgument("must be a finite number", field);
    if (value < lo || value > hi) {
        throw InvalidArgument("must be in [" + Number(lo) + ", " + Number(hi) + "]", field);
    }
}

void NonNegative(int64_t value, const std::string& field) {
    if (value < 0) throw InvalidArgument("must be >= 0", field);
}

void Count(int n, const std::string& field, int max = kMaxRepeated) {
    if (n > max) {
        throw InvalidArgument("must have at most " + std::to_string(max) + " entries", field);
    }
}

template <typename IsValid>
void Enum(int value, const std::string& field, IsValid is_valid, bool required) {
    if (!is_valid(value)) {
        throw InvalidArgument("unknown value " + std::to_string(value), field);
    }
    if (required && value == 0) throw InvalidArgument("is required", field);
}

void Page(const v1::PageRequest& page) {
    if (page.page_size() < 0) throw InvalidArgument("must be >= 0", "page.page_size");
    CheckText(page.page_token(), "page.page_token", kMaxName);
}

void Wait(const google::protobuf::Duration& wait) {
    if (wait.seconds() < 0 || wait.seconds() > 315576000000LL || wait.nanos() < 0 ||
        wait.nanos() > 999999999) {
        throw InvalidArgument("must be a non-negative duration", "wait");
    }
}

void Lease(const std::string& holder, const char* holder_field, const std::string& lease_id) {
    Require(holder, holder_field);
    Require(lease_id, "lease_id");
}

}  // namespace

void Require(const std::string& value, const std::string& field) {
    if (value.empty()) throw InvalidArgument("is required", field);
    CheckText(value, field, kMaxId);
}

void CheckText(const std::string& value, const std::string& field, size_t max_bytes, bool lines) {
    if (value.size() > max_bytes) {
        throw InvalidArgument("must be at most " + std::to_string(max_bytes) + " bytes", field);
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (lines && (c == '\n' || c == '\t')) continue;
        if (u < 0x20 || u == 0x7F) {
            throw InvalidArgument("must not contain control characters", field);
        }
    }
}

// --- SearchService ---

void Validate(const v1::SubmitJobRequest& r) {
    // The spec itself is checked (and defaulted) by NormalizeJobSpec.
    CheckText(r.request_id(), "request_id", kMaxId);
}

void Validate(const v1::GetJobRequest& r) { Require(r.job_id(), "job_id"); }

void Validate(const v1::ListJobsRequest& r) {
    Page(r.page());
    Enum(r.state(), "state", v1::JobState_IsValid, false);
    CheckText(r.owner(), "owner", kMaxName);
}

void Validate(const v1::WatchJobRequest& r) {
    Require(r.job_id(), "job_id");
    NonNegative(r.after_event_id(), "after_event_id");
}

void Validate(const v1::CancelJobRequest& r) {
    Require(r.job_id(), "job_id");
    CheckText(r.reason(), "reason", kMaxShortReason);
}

void Validate(const v1::ListTrialsRequest& r) {
    Require(r.job_id(), "job_id");
    Page(r.page());
    Enum(r.state(), "state", v1::TrialState_IsValid, false);
}

void Validate(const v1::GetTrialRequest& r) { Require(r.trial_id(), "trial_id"); }

void Validate(const v1::GetParetoFrontRequest& r) { Require(r.job_id(), "job_id"); }

void Validate(const v1::GetArtifactRequest& r) {
    Require(r.trial_id(), "trial_id");
    Enum(r.kind(), "kind", v1::ArtifactKind_IsValid, true);
}

// The farm and the workers: no fields, so nothing to check; declared so that
// every request type has its validator.
void Validate(const v1::ListBoardsRequest&) {}

void Validate(const v1::ListWorkersRequest&) {}

// --- WorkService ---

void Validate(const v1::LeaseTrialRequest& r) {
    Require(r.worker_id(), "worker_id");
    Wait(r.wait());
    const v1::WorkerCapabilities& c = r.capabilities();
    Enum(c.device(), "capabilities.device", v1::DeviceKind_IsValid, false);
    CheckText(c.device_name(), "capabilities.device_name", kMaxName);
    CheckText(c.hostname(), "capabilities.hostname", kMaxName);
    CheckText(c.version(), "capabilities.version", kMaxName);
    NonNegative(c.memory_bytes(), "capabilities.memory_bytes");
    NonNegative(c.cpu_threads(), "capabilities.cpu_threads");
    Count(c.datasets_size(), "capabilities.datasets");
    for (int i = 0; i < c.datasets_size(); ++i) {
        Require(c.datasets(i), At("capabilities.datasets", i));
    }
}

void Validate(const v1::LeaseHeartbeatRequest& r) {
    Lease(r.holder_id(), "holder_id", r.lease_id());
}

void Validate(const v1::ReportProgressRequest& r) {
    Lease(r.worker_id(), "worker_id", r.lease_id());
    const v1::TrialProgress& p = r.progress();
    CheckText(p.trial_id(), "progress.trial_id", kMaxId);
    CheckText(p.phase(), "progress.phase", kMaxMetricName);
    NonNegative(p.epoch(), "progress.epoch");
    NonNegative(p.total_epochs(), "progress.total_epochs");
    Finite(p.loss(), "progress.loss", -1e30, 1e30);
    Finite(p.validation_accuracy(), "progress.validation_accuracy", 0, 1);
}

void Validate(const v1::CompleteTrialRequest& r) {
    Lease(r.worker_id(), "worker_id", r.lease_id());
    Count(r.metrics_size(), "metrics");
    std::set<std::string> names;
    for (int i = 0; i < r.metrics_size(); ++i) {
        const v1::Metric& m = r.metrics(i);
        const std::string at = At("metrics", i);
        Require(m.name(), at + ".name");
        CheckText(m.name(), at + ".name", kMaxMetricName);
        if (!names.insert(m.name()).second) {
            throw InvalidArgument("metric '" + m.name() + "' is reported twice", at + ".name");
        }
        Finite(m.value(), at + ".value", -1e300, 1e300);
        Enum(m.source(), at + ".source", v1::MetricSource_IsValid, false);
    }
    Enum(r.model().kind(), "model.kind", v1::ArtifactKind_IsValid, false);
    CheckText(r.model().sha256(), "model.sha256", 64);
    Enum(r.checkpoint().kind(), "checkpoint.kind", v1::ArtifactKind_IsValid, false);
    CheckText(r.checkpoint().sha256(), "checkpoint.sha256", 64);
}

void Validate(const v1::FailTrialRequest& r) {
    Lease(r.worker_id(), "worker_id", r.lease_id());
    CheckText(r.reason(), "reason", kMaxReason, /*lines=*/true);
}

void Validate(const v1::FetchArtifactRequest& r) { Require(r.artifact_id(), "artifact_id"); }

// --- FarmService ---

void Validate(const v1::RegisterAgentRequest& r) {
    Require(r.agent_id(), "agent_id");
    CheckText(r.hostname(), "hostname", kMaxName);
    CheckText(r.version(), "version", kMaxName);
    Count(r.boards_size(), "boards");
    std::set<std::string> ids;
    for (int i = 0; i < r.boards_size(); ++i) {
        const v1::Board& b = r.boards(i);
        const std::string at = At("boards", i);
        Require(b.board_id(), at + ".board_id");
        Require(b.board_type(), at + ".board_type");
        catalog::FindBoardType(b.board_type(), at + ".board_type");
        if (!ids.insert(b.board_id()).second) {
            throw InvalidArgument("duplicate board id '" + b.board_id() + "'", at + ".board_id");
        }
        CheckText(b.probe_serial(), at + ".probe_serial", kMaxName);
        Enum(b.debugger(), at + ".debugger", v1::Debugger_IsValid, false);
        if (b.debugger() == v1::DEBUGGER_UNSPECIFIED) {
            throw InvalidArgument("is required (openocd, pyocd or qemu)", at + ".debugger");
        }
        CheckText(b.serial_port(), at + ".serial_port", kMaxName);
        Enum(b.meter(), at + ".meter", v1::EnergyMeter_IsValid, false);
        CheckText(b.meter_port(), at + ".meter_port", kMaxName);
        Enum(b.health(), at + ".health", v1::BoardHealth_IsValid, false);
        CheckText(b.health_reason(), at + ".health_reason", kMaxShortReason);
    }
}

void Validate(const v1::LeaseMeasurementRequest& r) {
    Require(r.agent_id(), "agent_id");
    Require(r.board_id(), "board_id");
    Wait(r.wait());
}

void Validate(const v1::CompleteMeasurementRequest& r) {
    Lease(r.agent_id(), "agent_id", r.lease_id());
    const v1::Measurement& m = r.measurement();
    CheckText(m.board_id(), "measurement.board_id", kMaxId);
    CheckText(m.board_type(), "measurement.board_type", kMaxName);
    CheckText(m.agent_id(), "measurement.agent_id", kMaxId);
    constexpr double kHour = 3600e3;  // ms
    Finite(m.latency_ms(), "measurement.latency_ms", 0, kHour);
    Finite(m.latency_p10_ms(), "measurement.latency_p10_ms", 0, kHour);
    Finite(m.latency_p90_ms(), "measurement.latency_p90_ms", 0, kHour);
    Finite(m.energy_uj(), "measurement.energy_uj", 0, 1e15);
    Enum(m.source(), "measurement.source", v1::MetricSource_IsValid, false);
    Enum(m.energy_source(), "measurement.energy_source", v1::MetricSource_IsValid, false);
    NonNegative(m.sram().static_bytes(), "measurement.sram.static_bytes");
    NonNegative(m.sram().stack_bytes(), "measurement.sram.stack_bytes");
    NonNegative(m.sram().arena_bytes(), "measurement.sram.arena_bytes");
    NonNegative(m.sram().total_bytes(), "measurement.sram.total_bytes");
    NonNegative(m.flash().text_bytes(), "measurement.flash.text_bytes");
    NonNegative(m.flash().rodata_bytes(), "measurement.flash.rodata_bytes");
    NonNegative(m.flash().data_bytes(), "measurement.flash.data_bytes");
    NonNegative(m.flash().total_bytes(), "measurement.flash.total_bytes");
    NonNegative(m.outputs_checked(), "measurement.outputs_checked");
    const v1::Provenance& p = m.provenance();
    for (const auto& [value, name] : {std::pair{&p.toolchain(), "toolchain"},
                                      {&p.firmware_sha256(), "firmware_sha256"},
                                      {&p.timing_method(), "timing_method"},
                                      {&p.debugger(), "debugger"},
                                      {&p.debugger_version(), "debugger_version"},
                                      {&p.meter(), "meter"},
                                      {&p.agent_version(), "agent_version"},
                                      {&p.runtime_variant(), "runtime_variant"},
                                      {&p.meter_version(), "meter_version"}}) {
        CheckText(*value, std::string("measurement.provenance.") + name, kMaxName);
    }
    NonNegative(p.clock_hz(), "measurement.provenance.clock_hz");
    NonNegative(p.warmup_runs(), "measurement.provenance.warmup_runs");
    NonNegative(p.timed_runs(), "measurement.provenance.timed_runs");
    Enum(r.firmware().kind(), "firmware.kind", v1::ArtifactKind_IsValid, false);
    CheckText(r.firmware().sha256(), "firmware.sha256", 64);
}

void Validate(const v1::FailMeasurementRequest& r) {
    Lease(r.agent_id(), "agent_id", r.lease_id());
    CheckText(r.reason(), "reason", kMaxReason, /*lines=*/true);
}

void Validate(const v1::ReportBoardHealthRequest& r) {
    Require(r.agent_id(), "agent_id");
    Require(r.board_id(), "board_id");
    Enum(r.health(), "health", v1::BoardHealth_IsValid, true);
    CheckText(r.reason(), "reason", kMaxShortReason, /*lines=*/true);
}

}  // namespace hilnas::controller
