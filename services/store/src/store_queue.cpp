// Store: the lease queues for trainers and board agents, and the reaper.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "hilnas/common/text.h"
#include "store_impl.h"

namespace hilnas::store {

namespace {

using google::protobuf::util::TimeUtil;

std::string DescribeEndedLease(const std::string& outcome) {
    if (outcome == "completed") return "its work was already completed";
    if (outcome == "expired") return "it expired and was reaped";
    if (outcome == "cancelled") return "its job was stopped";
    if (outcome == "infeasible") return "its trial was found infeasible";
    return "its work was already reported failed";  // failed, retry
}

void FillLease(v1::Lease* lease, const pqxx::row& r) {
    lease->set_trial_id(r["id"].as<std::string>());
    lease->set_lease_id(r["lease_id"].as<std::string>());
    lease->set_attempt(r["attempt"].as<int>());
    *lease->mutable_expires_at() = TimeUtil::MicrosecondsToTimestamp(r["expires_us"].as<int64_t>());
}

std::string AttemptText(int attempt, int max_attempts) {
    return "attempt " + std::to_string(attempt) + " of " + std::to_string(max_attempts);
}

// What a failed lease turns into: back to its queue while attempts remain.
v1::TrialState EndFailedLease(pqxx::work& tx, const HeldLease& lease, const std::string& reason,
                              bool retryable) {
    const int attempt = lease.attempts + 1;
    const char* queue = lease.trial_state == "measuring" ? "trained" : "pending";
    if (retryable && attempt < lease.max_attempts) {
        return EndLease(tx, lease, "retry",
                        reason + " (" + AttemptText(attempt, lease.max_attempts) + ")", queue, 1,
                        true);
    }
    const std::string why =
        retryable ? reason + " (" + AttemptText(attempt, lease.max_attempts) + "; none left)"
                  : reason;
    return EndLease(tx, lease, "failed", why, "failed", 1, true);
}

void ValidateMeasurement(const v1::Measurement& m) {
    const v1::MetricSource source = m.source();
    if (source != v1::METRIC_SOURCE_MEASURED && source != v1::METRIC_SOURCE_ESTIMATED &&
        source != v1::METRIC_SOURCE_EMULATED) {
        throw InvalidArgument("must be MEASURED, ESTIMATED or EMULATED", "measurement.source");
    }
    const v1::MetricSource energy = m.energy_source();
    if (energy != v1::METRIC_SOURCE_UNSPECIFIED && energy != v1::METRIC_SOURCE_MEASURED &&
        energy != v1::METRIC_SOURCE_ESTIMATED && energy != v1::METRIC_SOURCE_EMULATED) {
        throw InvalidArgument("must be MEASURED, ESTIMATED, EMULATED or unset",
                              "measurement.energy_source");
    }
    if (!std::isfinite(m.latency_ms()) || m.latency_ms() < 0) {
        throw InvalidArgument("must be finite and >= 0", "measurement.latency_ms");
    }
    if (!std::isfinite(m.energy_uj()) || m.energy_uj() < 0) {
        throw InvalidArgument("must be finite and >= 0", "measurement.energy_uj");
    }
    for (const auto& [value, field] :
         {std::pair{m.latency_p10_ms(), "measurement.latency_p10_ms"},
          std::pair{m.latency_p90_ms(), "measurement.latency_p90_ms"}}) {
        if (!std::isfinite(value) || value < 0)
            throw InvalidArgument("must be finite and >= 0", field);
    }
    if (m.latency_p10_ms() > 0 && m.latency_p90_ms() > 0 &&
        !(m.latency_p10_ms() <= m.latency_ms() && m.latency_ms() <= m.latency_p90_ms())) {
        throw InvalidArgument("must satisfy p10 <= latency_ms <= p90", "measurement.latency_ms");
    }
    if (m.outputs_checked() < 0) {
        throw InvalidArgument("must be >= 0", "measurement.outputs_checked");
    }
    if (m.cycles() > static_cast<uint64_t>(INT64_MAX)) {
        throw InvalidArgument("out of range", "measurement.cycles");
    }
    const std::vector<std::pair<int64_t, const char*>> sizes = {
        {m.sram().static_bytes(), "measurement.sram.static_bytes"},
        {m.sram().stack_bytes(), "measurement.sram.stack_bytes"},
        {m.sram().arena_bytes(), "measurement.sram.arena_bytes"},
        {m.sram().total_bytes(), "measurement.sram.total_bytes"},
        {m.flash().text_bytes(), "measurement.flash.text_bytes"},
        {m.flash().rodata_bytes(), "measurement.flash.rodata_bytes"},
        {m.flash().data_bytes(), "measurement.flash.data_bytes"},
        {m.flash().total_bytes(), "measurement.flash.total_bytes"},
        {m.provenance().clock_hz(), "measurement.provenance.clock_hz"},
        {m.provenance().warmup_runs(), "measurement.provenance.warmup_runs"},
        {m.provenance().timed_runs(), "measurement.provenance.timed_runs"},
    };
    for (const auto& [value, field] : sizes) {
        if (value < 0) throw InvalidArgument("must be >= 0", field);
    }
}

}  // namespace

// ---- Leases ----

HeldLease LockLease(pqxx::work& tx, const std::string& holder, const std::string& lease_id,
                    const LeaseKind* kind) {
    const pqxx::result rows = Exec(tx, sql::kLockLease, lease_id);
    if (rows.empty()) {
        const pqxx::result ended = Exec(tx, sql::kEndedLease, lease_id);
        if (ended.empty()) throw NotFound("no lease " + lease_id, "lease_id");
        throw FailedPrecondition("lease " + lease_id + " is no longer held: " +
                                 DescribeEndedLease(ended[0]["outcome"].as<std::string>()));
    }
    const pqxx::row& r = rows[0];
    HeldLease lease;
    lease.lease_id = lease_id;
    lease.trial_id = r["id"].as<std::string>();
    lease.job_id = r["job_id"].as<std::string>();
    lease.holder = r["lease_owner"].as<std::string>();
    lease.trial_state = r["trial_state"].as<std::string>();
    lease.job_state = r["job_state"].as<std::string>();
    lease.attempts = r["attempts"].as<int>();
    lease.max_attempts = r["max_attempts"].as<int>();
    lease.measure = r["measure"].as<bool>();
    lease.board_id = r["board_id"].as<std::string>();
    lease.number = r["number"].as<int>();
    if (lease.holder != holder) {
        throw FailedPrecondition("lease " + lease_id + " is not held by '" + holder + "'");
    }
    if (kind != nullptr) {
        const bool measuring = lease.trial_state == "measuring";
        if (*kind == LeaseKind::kTrain && measuring) {
            throw FailedPrecondition("lease " + lease_id + " is for a measurement, not training");
        }
        if (*kind == LeaseKind::kMeasure && !measuring) {
            throw FailedPrecondition("lease " + lease_id + " is for training, not a measurement");
        }
    }
    return lease;
}

v1::TrialState EndLease(pqxx::work& tx, const HeldLease& lease, const char* outcome,
                        const std::string& reason, const char* state, int add_attempts,
                        bool is_error) {
    const pqxx::result rows =
        Exec(tx, sql::kEndLease, lease.trial_id, outcome, reason, state, add_attempts, is_error);
    if (rows.size() != 1) throw Internal("lease " + lease.lease_id + " vanished while held");
    return ParseTrialState(rows[0]["state"].as<std::string>());
}

std::string StopForStoppedJob(pqxx::work& tx, const HeldLease& lease) {
    const std::string reason = "its job is " + lease.job_state;
    EndLease(tx, lease, "cancelled", reason, "stale", 0, false);
    return reason;
}

LeaseRenewal Store::RenewLease(const std::string& holder_id, const std::string& lease_id,
                               std::chrono::milliseconds lease, std::optional<LeaseKind> kind) {
    RequireNonEmpty(holder_id, "holder_id");
    CheckUuid(lease_id, "lease_id");
    const int64_t millis = impl_->LeaseMillis(lease);
    return impl_->Transact("RenewLease", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, holder_id, lease_id, kind ? &*kind : nullptr);
        LeaseRenewal renewal;
        if (!held.job_active()) {
            renewal.action = v1::LEASE_ACTION_STOP;
            renewal.reason = StopForStoppedJob(tx, held);
            return renewal;
        }
        const pqxx::row r = tx.exec_prepared1(sql::kExtendLease.name, held.trial_id, millis);
        renewal.expires_at = FromEpochUs(r["expires_us"]);
        renewal.action = v1::LEASE_ACTION_CONTINUE;
        return renewal;
    });
}

v1::LeaseAction Store::ReportProgress(const std::string& holder_id, const std::string& lease_id,
                                      const v1::TrialProgress& progress,
                                      std::optional<LeaseKind> kind) {
    RequireNonEmpty(holder_id, "holder_id");
    CheckUuid(lease_id, "lease_id");
    return impl_->Transact("ReportProgress", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, holder_id, lease_id, kind ? &*kind : nullptr);
        if (!held.job_active()) {
            StopForStoppedJob(tx, held);
            return v1::LEASE_ACTION_STOP;
        }
        v1::TrialProgress event = progress;
        event.set_trial_id(held.trial_id);
        Exec(tx, sql::kAppendJobEvent, held.job_id, "progress", ToJson(event));
        return v1::LEASE_ACTION_CONTINUE;
    });
}

// ---- Training queue ----

std::optional<TrialLease> Store::ClaimTrial(const std::string& worker_id,
                                            const v1::WorkerCapabilities& capabilities,
                                            std::chrono::milliseconds lease) {
    RequireNonEmpty(worker_id, "worker_id");
    const int64_t millis = impl_->LeaseMillis(lease);
    const std::vector<std::string> datasets(capabilities.datasets().begin(),
                                            capabilities.datasets().end());
    const char* device = capabilities.device() == v1::DEVICE_CUDA ? "cuda" : "cpu";
    if (capabilities.memory_bytes() < 0) {
        throw InvalidArgument("must be >= 0", "capabilities.memory_bytes");
    }
    if (capabilities.cpu_threads() < 0) {
        throw InvalidArgument("must be >= 0", "capabilities.cpu_threads");
    }
    return impl_->Transact("ClaimTrial", [&](pqxx::work& tx) -> std::optional<TrialLease> {
        const pqxx::result rows = Exec(tx, sql::kClaimTrial, worker_id, TextArray(datasets), millis,
                                       capabilities.hostname(), capabilities.version(), device,
                                       capabilities.device_name(), capabilities.memory_bytes(),
                                       capabilities.cpu_threads());
        if (rows.empty()) return std::nullopt;
        const pqxx::row& r = rows[0];
        TrialLease claimed;
        FillLease(&claimed.lease, r);
        v1::TrainingTask& task = claimed.task;
        task.set_job_id(r["job_id"].as<std::string>());
        task.set_trial_id(r["id"].as<std::string>());
        task.set_trial_number(r["number"].as<int>());
        FromJson(r["candidate"].as<std::string>(), task.mutable_candidate());
        v1::JobSpec part;  // the spec's dataset and constraints
        FromJson(r["spec_part"].as<std::string>(), &part);
        *task.mutable_dataset() = part.dataset();
        task.mutable_dataset()->set_name(r["dataset"].as<std::string>());
        *task.mutable_constraints() = part.constraints();
        const std::string parent = r["parent_trial_id"].as<std::string>();
        if (!parent.empty()) {
            const pqxx::result ckpt = Exec(tx, sql::kArtifactRefByKind, parent,
                                           ArtifactKindName(v1::ARTIFACT_CHECKPOINT));
            if (!ckpt.empty()) {
                v1::ArtifactRef* ref = task.mutable_parent_checkpoint();
                ref->set_artifact_id(ckpt[0]["id"].as<std::string>());
                ref->set_trial_id(parent);
                ref->set_kind(v1::ARTIFACT_CHECKPOINT);
                ref->set_sha256(ckpt[0]["sha256"].as<std::string>());
                ref->set_size_bytes(ckpt[0]["size_bytes"].as<int64_t>());
            }
        }
        return claimed;
    });
}

v1::TrialState Store::CompleteTrial(const std::string& worker_id, const std::string& lease_id,
                                    const TrainingResult& result) {
    RequireNonEmpty(worker_id, "worker_id");
    CheckUuid(lease_id, "lease_id");
    ValidateMetrics(result.metrics, "metrics");
    ValidateObjectives(result.objectives, "objectives");
    std::set<v1::ArtifactKind> kinds;
    for (size_t i = 0; i < result.artifacts.size(); ++i) {
        const std::string field = "artifacts[" + std::to_string(i) + "]";
        const v1::Artifact& artifact = result.artifacts[i];
        ValidateArtifact(artifact, impl_->options.max_artifact_bytes, field.c_str());
        if (artifact.kind() == v1::ARTIFACT_FIRMWARE_ELF) {
            throw InvalidArgument("a trainer stores models and checkpoints, not firmware",
                                  field + ".kind");
        }
        if (!kinds.insert(artifact.kind()).second) {
            throw InvalidArgument("a second artifact of the same kind", field + ".kind");
        }
    }
    const std::string final_model = result.final_model ? ToJson(*result.final_model) : "";
    const LeaseKind kind = LeaseKind::kTrain;
    return impl_->Transact("CompleteTrial", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, worker_id, lease_id, &kind);
        if (!held.job_active()) {
            StopForStoppedJob(tx, held);
            return v1::TRIAL_STALE;
        }
        UpsertMetrics(tx, held.trial_id, result.metrics);
        UpsertObjectives(tx, held.trial_id, result.objectives);
        if (!final_model.empty()) Exec(tx, sql::kSetFinalModel, held.trial_id, final_model);
        for (const v1::Artifact& artifact : result.artifacts) {
            InsertArtifact(tx, held.trial_id, artifact);
        }
        if (!result.infeasible_reason.empty()) {
            return EndLease(tx, held, "infeasible", TruncateUtf8(result.infeasible_reason, 2000),
                            "infeasible", 0, true);
        }
        return EndLease(tx, held, "completed", "trained by " + worker_id,
                        held.measure ? "trained" : "complete", 0, false);
    });
}

v1::TrialState Store::FailTrial(const std::string& worker_id, const std::string& lease_id,
                                const Failure& failure) {
    RequireNonEmpty(worker_id, "worker_id");
    CheckUuid(lease_id, "lease_id");
    const std::string reason =
        failure.reason.empty() ? "failed (no reason given)" : TruncateUtf8(failure.reason, 10000);
    const LeaseKind kind = LeaseKind::kTrain;
    return impl_->Transact("FailTrial", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, worker_id, lease_id, &kind);
        if (!held.job_active()) {
            StopForStoppedJob(tx, held);
            return v1::TRIAL_STALE;
        }
        return EndFailedLease(tx, held, reason, failure.retryable);
    });
}

// ---- Measurement queue ----

std::optional<MeasurementLease> Store::ClaimMeasurement(const std::string& agent_id,
                                                        const std::string& board_id,
                                                        std::chrono::milliseconds lease) {
    RequireNonEmpty(agent_id, "agent_id");
    RequireNonEmpty(board_id, "board_id");
    const int64_t millis = impl_->LeaseMillis(lease);
    return impl_->Transact(
        "ClaimMeasurement", [&](pqxx::work& tx) -> std::optional<MeasurementLease> {
            if (Exec(tx, sql::kTouchAgent, agent_id).affected_rows() == 0) {
                throw NotFound("no agent " + agent_id + " (register it first)", "agent_id");
            }
            const pqxx::result board = Exec(tx, sql::kLockBoard, board_id);
            if (board.empty() || board[0]["agent_id"].as<std::string>() != agent_id) {
                throw NotFound("agent " + agent_id + " has no board " + board_id, "board_id");
            }
            const std::string board_type = board[0]["board_type"].as<std::string>();
            const std::string health = board[0]["health"].as<std::string>();
            if (!board[0]["active"].as<bool>()) {
                throw FailedPrecondition("board " + board_id + " is no longer registered");
            }
            if (health != "good" && health != "unknown") {
                throw FailedPrecondition("board " + board_id + " is out of service (" + health +
                                         ")");
            }
            const std::string busy = board[0]["busy_lease_id"].as<std::string>();
            if (!busy.empty()) {
                throw FailedPrecondition("board " + board_id +
                                         " is already measuring under lease " + busy);
            }
            const pqxx::result rows =
                Exec(tx, sql::kClaimMeasurement, agent_id, board_type, board_id, millis);
            if (rows.empty()) return std::nullopt;
            const pqxx::row& r = rows[0];
            MeasurementLease claimed;
            claimed.board_id = board_id;
            FillLease(&claimed.lease, r);
            v1::MeasurementTask& task = claimed.task;
            task.set_job_id(r["job_id"].as<std::string>());
            task.set_trial_id(r["id"].as<std::string>());
            v1::JobSpec part;  // the spec's board type and measurement settings
            FromJson(r["spec_part"].as<std::string>(), &part);
            task.set_board_type(part.board_type());
            *task.mutable_settings() = part.measurement();
            *task.mutable_dataset() = part.dataset();
            const pqxx::result model = Exec(tx, sql::kLoadArtifactByKind, task.trial_id(),
                                            ArtifactKindName(v1::ARTIFACT_INT8_MODEL));
            if (!model.empty()) {
                task.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
                task.mutable_model()->set_sha256(model[0]["sha256"].as<std::string>());
                task.mutable_model()->set_data(pqxx::binarystring(model[0]["data"]).str());
            }
            return claimed;
        });
}

v1::TrialState Store::CompleteMeasurement(const std::string& agent_id, const std::string& lease_id,
                                          const MeasurementResult& result) {
    RequireNonEmpty(agent_id, "agent_id");
    CheckUuid(lease_id, "lease_id");
    const v1::Measurement& m = result.measurement;
    ValidateMeasurement(m);
    ValidateObjectives(result.objectives, "objectives");
    v1::Artifact firmware;
    if (result.firmware) {
        firmware = *result.firmware;
        if (firmware.kind() == v1::ARTIFACT_KIND_UNSPECIFIED) {
            firmware.set_kind(v1::ARTIFACT_FIRMWARE_ELF);
        }
        ValidateArtifact(firmware, impl_->options.max_artifact_bytes, "firmware");
        if (firmware.kind() != v1::ARTIFACT_FIRMWARE_ELF) {
            throw InvalidArgument("must be ARTIFACT_FIRMWARE_ELF", "firmware.kind");
        }
    }
    const bool has_energy = m.energy_source() != v1::METRIC_SOURCE_UNSPECIFIED;
    const std::string energy = FormatDouble(m.energy_uj());
    const std::string p10 = FormatDouble(m.latency_p10_ms());
    const std::string p90 = FormatDouble(m.latency_p90_ms());
    const std::string measured_at =
        m.has_measured_at() ? std::to_string(TimeUtil::TimestampToMicroseconds(m.measured_at()))
                            : "";
    const LeaseKind kind = LeaseKind::kMeasure;
    return impl_->Transact("CompleteMeasurement", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, agent_id, lease_id, &kind);
        if (!held.job_active()) {
            StopForStoppedJob(tx, held);
            return v1::TRIAL_STALE;
        }
        const pqxx::result board = Exec(tx, sql::kLockBoard, held.board_id);
        const std::string board_type = board.at(0)["board_type"].as<std::string>();
        const v1::Provenance& p = m.provenance();
        Exec(tx, sql::kInsertMeasurement, held.trial_id, held.board_id, board_type, agent_id,
             static_cast<int64_t>(m.cycles()), FormatDouble(m.latency_ms()),
             has_energy ? energy.c_str() : nullptr, MetricSourceName(m.source()),
             has_energy ? MetricSourceName(m.energy_source()) : nullptr, m.sram().static_bytes(),
             m.sram().stack_bytes(), m.sram().arena_bytes(), m.sram().total_bytes(),
             m.flash().text_bytes(), m.flash().rodata_bytes(), m.flash().data_bytes(),
             m.flash().total_bytes(), m.outputs_match_host(), p.toolchain(), p.firmware_sha256(),
             p.clock_hz(), p.timing_method(), p.debugger(), p.debugger_version(), p.meter(),
             p.agent_version(), p.warmup_runs(), p.timed_runs(), NullIfEmpty(measured_at),
             m.latency_p10_ms() > 0 ? p10.c_str() : nullptr,
             m.latency_p90_ms() > 0 ? p90.c_str() : nullptr, m.outputs_checked(),
             p.runtime_variant(), p.meter_version());
        UpsertObjectives(tx, held.trial_id, result.objectives);
        if (result.firmware) InsertArtifact(tx, held.trial_id, firmware);
        Exec(tx, sql::kBoardMeasured, held.board_id);
        if (!result.infeasible_reason.empty()) {
            return EndLease(tx, held, "infeasible", TruncateUtf8(result.infeasible_reason, 2000),
                            "infeasible", 0, true);
        }
        return EndLease(tx, held, "completed", "measured on " + held.board_id, "complete", 0,
                        false);
    });
}

v1::TrialState Store::FailMeasurement(const std::string& agent_id, const std::string& lease_id,
                                      const Failure& failure) {
    RequireNonEmpty(agent_id, "agent_id");
    CheckUuid(lease_id, "lease_id");
    if (failure.infeasible && failure.board_fault) {
        throw InvalidArgument("a failure is either the board's or the model's, not both",
                              "board_fault");
    }
    const std::string reason =
        failure.reason.empty() ? "failed (no reason given)" : TruncateUtf8(failure.reason, 10000);
    const LeaseKind kind = LeaseKind::kMeasure;
    const int limit = impl_->options.board_failure_limit;
    return impl_->Transact("FailMeasurement", [&](pqxx::work& tx) {
        const HeldLease held = LockLease(tx, agent_id, lease_id, &kind);
        if (!held.job_active()) {
            StopForStoppedJob(tx, held);
            return v1::TRIAL_STALE;
        }
        if (failure.infeasible) {
            return EndLease(tx, held, "infeasible", reason, "infeasible", 0, true);
        }
        if (failure.board_fault) {
            // The board, not the trial, failed: the trial keeps its attempts.
            Exec(tx, sql::kBoardFault, held.board_id, limit,
                 std::to_string(limit) + " faults in a row; last: " + reason);
            return EndLease(tx, held, "retry", "board " + held.board_id + " fault: " + reason,
                            "trained", 0, true);
        }
        return EndFailedLease(tx, held, reason, failure.retryable);
    });
}

v1::Job Store::JobOfLease(const std::string& lease_id) {
    CheckUuid(lease_id, "lease_id");
    const std::string job_id = impl_->Transact("JobOfLease", [&](pqxx::work& tx) {
        const pqxx::result r = Exec(tx, sql::kLeaseJob, lease_id);
        if (r.empty()) throw NotFound("no lease " + lease_id, "lease_id");
        return r[0]["job_id"].as<std::string>();
    });
    return GetJob(job_id);
}

// ---- The reaper ----

ReapReport Store::ReapExpiredLeases(int limit) {
    if (limit < 1 || limit > 10000) throw InvalidArgument("must be between 1 and 10000", "limit");
    ReapReport report;
    const std::vector<std::string> ids = impl_->Transact("ReapExpiredLeases", [&](pqxx::work& tx) {
        std::vector<std::string> out;
        for (const pqxx::row& r : Exec(tx, sql::kExpiredLeaseTrials, limit)) {
            out.push_back(r["id"].as<std::string>());
        }
        return out;
    });
    // One transaction per lease: a reaper never holds two jobs' event counters.
    for (const std::string& trial_id : ids) {
        std::optional<ReapedLease> reaped =
            impl_->Transact("ReapExpiredLeases", [&](pqxx::work& tx) -> std::optional<ReapedLease> {
                // Skips a lease that another reaper holds, or that was renewed or ended since.
                const pqxx::result rows = Exec(tx, sql::kLockExpiredLease, trial_id);
                if (rows.empty()) return std::nullopt;
                const pqxx::row& r = rows[0];
                HeldLease held;
                held.lease_id = r["lease_id"].as<std::string>();
                held.trial_id = trial_id;
                held.trial_state = r["trial_state"].as<std::string>();
                held.attempts = r["attempts"].as<int>();
                held.max_attempts = r["max_attempts"].as<int>();
                held.job_state = r["job_state"].as<std::string>();
                held.job_id = r["job_id"].as<std::string>();
                held.holder = r["lease_owner"].as<std::string>();
                ReapedLease out{held.lease_id, trial_id, held.job_id, v1::TRIAL_STATE_UNSPECIFIED,
                                ""};
                const std::string what = "lease held by " + held.holder + " expired";
                if (!held.job_active()) {
                    out.reason = what + "; its job is " + held.job_state;
                    out.state = EndLease(tx, held, "expired", out.reason, "stale", 0, false);
                    return out;
                }
                const int attempt = held.attempts + 1;
                const char* queue = held.trial_state == "measuring" ? "trained" : "pending";
                const bool retry = attempt < held.max_attempts;
                out.reason = what + " (" + AttemptText(attempt, held.max_attempts) +
                             (retry ? ")" : "; none left)");
                out.state =
                    EndLease(tx, held, "expired", out.reason, retry ? queue : "failed", 1, true);
                return out;
            });
        if (reaped) report.reaped.push_back(std::move(*reaped));
    }
    report.cancelled_jobs = impl_->Transact("ReapExpiredLeases", [&](pqxx::work& tx) {
        std::vector<std::string> out;
        for (const pqxx::row& r : Exec(tx, sql::kFinishCancellations)) {
            out.push_back(r["id"].as<std::string>());
        }
        return out;
    });
    return report;
}

}  // namespace hilnas::store
