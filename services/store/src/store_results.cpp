// Store: metrics, objectives, artifacts, the Pareto front, hypervolume and job events.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <sstream>

#include "store_impl.h"

namespace hilnas::store {

namespace {

bool IsMetricName(const std::string& name) {
    if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

bool IsLowerHex64(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

StoredArtifact ArtifactFromRow(const pqxx::row& r) {
    StoredArtifact out;
    out.ref.set_artifact_id(r["id"].as<std::string>());
    out.ref.set_trial_id(r["trial_id"].as<std::string>());
    out.ref.set_kind(ParseArtifactKind(r["kind"].as<std::string>()));
    out.ref.set_sha256(r["sha256"].as<std::string>());
    out.ref.set_size_bytes(r["size_bytes"].as<int64_t>());
    out.data = pqxx::binarystring(r["data"]).str();
    return out;
}

void RequireTrial(pqxx::work& tx, const std::string& trial_id) {
    if (Exec(tx, sql::kTrialJob, trial_id).empty()) {
        throw NotFound("no trial " + trial_id, "trial_id");
    }
}

void RequireJob(pqxx::work& tx, const std::string& job_id) {
    if (Exec(tx, sql::kJobExists, job_id).empty()) throw NotFound("no job " + job_id, "job_id");
}

}  // namespace

void RequireTrialOfJob(pqxx::work& tx, const std::string& trial_id, const std::string& job_id) {
    const pqxx::result trial = Exec(tx, sql::kTrialJob, trial_id);
    if (trial.empty()) throw NotFound("no trial " + trial_id, "trial_id");
    if (trial[0]["job_id"].as<std::string>() != job_id) {
        throw InvalidArgument("trial " + trial_id + " is not of job " + job_id, "trial_id");
    }
}

std::vector<std::string> SplitCsv(const std::string& csv) {
    std::vector<std::string> out;
    size_t begin = 0;
    while (begin < csv.size()) {
        size_t end = csv.find(',', begin);
        if (end == std::string::npos) end = csv.size();
        out.push_back(csv.substr(begin, end - begin));
        begin = end + 1;
    }
    return out;
}

// ---- Validation and writes shared with the queues ----

void ValidateMetrics(const std::vector<v1::Metric>& metrics, const char* field) {
    std::set<std::string> seen;
    for (size_t i = 0; i < metrics.size(); ++i) {
        const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
        const v1::Metric& m = metrics[i];
        if (!IsMetricName(m.name())) {
            throw InvalidArgument("must be 1-64 lowercase letters, digits or '_', from a letter",
                                  at + ".name");
        }
        if (!seen.insert(m.name()).second) {
            throw InvalidArgument("'" + m.name() + "' appears twice", at + ".name");
        }
        if (!std::isfinite(m.value())) throw InvalidArgument("must be finite", at + ".value");
        if (MetricSourceName(m.source())[0] == '\0')
            throw InvalidArgument("required", at + ".source");
    }
}

void ValidateObjectives(const std::vector<v1::ObjectiveValue>& objectives, const char* field) {
    std::set<v1::Objective> seen;
    for (size_t i = 0; i < objectives.size(); ++i) {
        const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
        const v1::ObjectiveValue& o = objectives[i];
        if (ObjectiveName(o.objective())[0] == '\0') {
            throw InvalidArgument("not a known objective", at + ".objective");
        }
        if (!seen.insert(o.objective()).second) {
            throw InvalidArgument("appears twice", at + ".objective");
        }
        if (!std::isfinite(o.value()) || o.value() < 0) {
            throw InvalidArgument("must be finite and >= 0", at + ".value");
        }
        if (o.objective() == v1::OBJECTIVE_ERROR && o.value() > 1) {
            throw InvalidArgument("an error is at most 1", at + ".value");
        }
        if (MetricSourceName(o.source())[0] == '\0') {
            throw InvalidArgument("required", at + ".source");
        }
    }
}

void ValidateArtifact(const v1::Artifact& artifact, int64_t max_bytes, const char* field) {
    const std::string at = field;
    const auto size = static_cast<int64_t>(artifact.data().size());
    if (size > max_bytes) {
        throw ResourceExhausted("an artifact of " + std::to_string(size) +
                                    " bytes is over the limit of " + std::to_string(max_bytes) +
                                    " bytes",
                                at + ".data");
    }
    if (size == 0) throw InvalidArgument("empty", at + ".data");
    if (ArtifactKindName(artifact.kind())[0] == '\0')
        throw InvalidArgument("required", at + ".kind");
    if (!artifact.sha256().empty() && !IsLowerHex64(artifact.sha256())) {
        throw InvalidArgument("must be 64 lowercase hex digits", at + ".sha256");
    }
}

void UpsertMetrics(pqxx::work& tx, const std::string& trial_id,
                   const std::vector<v1::Metric>& metrics) {
    if (metrics.empty()) return;
    std::vector<std::string> names;
    std::vector<double> values;
    std::vector<std::string> sources;
    for (const v1::Metric& m : metrics) {
        names.push_back(m.name());
        values.push_back(m.value());
        sources.push_back(MetricSourceName(m.source()));
    }
    Exec(tx, sql::kUpsertMetrics, trial_id, TextArray(names), DoubleArray(values),
         TextArray(sources));
}

void UpsertObjectives(pqxx::work& tx, const std::string& trial_id,
                      const std::vector<v1::ObjectiveValue>& objectives) {
    if (objectives.empty()) return;
    std::vector<std::string> names;
    std::vector<double> values;
    std::vector<std::string> sources;
    for (const v1::ObjectiveValue& o : objectives) {
        names.push_back(ObjectiveName(o.objective()));
        values.push_back(o.value());
        sources.push_back(MetricSourceName(o.source()));
    }
    Exec(tx, sql::kUpsertObjectives, trial_id, TextArray(names), DoubleArray(values),
         TextArray(sources));
}

v1::ArtifactRef InsertArtifact(pqxx::work& tx, const std::string& trial_id,
                               const v1::Artifact& artifact) {
    const char* kind = ArtifactKindName(artifact.kind());
    if (!Exec(tx, sql::kArtifactExists, trial_id, kind).empty()) {
        throw AlreadyExists("trial " + trial_id + " already has a " + kind + " artifact", "kind");
    }
    const pqxx::row r =
        tx.exec_prepared1(sql::kInsertArtifact.name, trial_id, kind,
                          pqxx::binarystring(artifact.data().data(), artifact.data().size()));
    const std::string sha256 = r["sha256"].as<std::string>();
    if (!artifact.sha256().empty() && artifact.sha256() != sha256) {
        throw InvalidArgument("does not match the bytes (their sha256 is " + sha256 + ")",
                              "sha256");
    }
    v1::ArtifactRef ref;
    ref.set_artifact_id(r["id"].as<std::string>());
    ref.set_trial_id(trial_id);
    ref.set_kind(artifact.kind());
    ref.set_sha256(sha256);
    ref.set_size_bytes(r["size_bytes"].as<int64_t>());
    return ref;
}

// ---- Results ----

void Store::RecordMetrics(const std::string& trial_id, const std::vector<v1::Metric>& metrics) {
    CheckUuid(trial_id, "trial_id");
    ValidateMetrics(metrics, "metrics");
    impl_->Transact("RecordMetrics", [&](pqxx::work& tx) {
        RequireTrial(tx, trial_id);
        UpsertMetrics(tx, trial_id, metrics);
    });
}

void Store::RecordObjectives(const std::string& trial_id,
                             const std::vector<v1::ObjectiveValue>& objectives) {
    CheckUuid(trial_id, "trial_id");
    ValidateObjectives(objectives, "objectives");
    impl_->Transact("RecordObjectives", [&](pqxx::work& tx) {
        RequireTrial(tx, trial_id);
        UpsertObjectives(tx, trial_id, objectives);
    });
}

v1::ArtifactRef Store::PutArtifact(const std::string& trial_id, const v1::Artifact& artifact) {
    CheckUuid(trial_id, "trial_id");
    ValidateArtifact(artifact, impl_->options.max_artifact_bytes, "artifact");
    return impl_->Transact("PutArtifact", [&](pqxx::work& tx) {
        RequireTrial(tx, trial_id);
        return InsertArtifact(tx, trial_id, artifact);
    });
}

StoredArtifact Store::GetArtifact(const std::string& artifact_id) {
    CheckUuid(artifact_id, "artifact_id");
    return impl_->Transact("GetArtifact", [&](pqxx::work& tx) {
        const pqxx::result rows = Exec(tx, sql::kLoadArtifact, artifact_id);
        if (rows.empty()) throw NotFound("no artifact " + artifact_id, "artifact_id");
        return ArtifactFromRow(rows[0]);
    });
}

StoredArtifact Store::GetTrialArtifact(const std::string& trial_id, v1::ArtifactKind kind) {
    CheckUuid(trial_id, "trial_id");
    const char* name = ArtifactKindName(kind);
    if (name[0] == '\0') throw InvalidArgument("required", "kind");
    return impl_->Transact("GetTrialArtifact", [&](pqxx::work& tx) {
        const pqxx::result rows = Exec(tx, sql::kLoadArtifactByKind, trial_id, name);
        if (rows.empty()) {
            RequireTrial(tx, trial_id);
            throw NotFound("trial " + trial_id + " has no " + name + " artifact", "kind");
        }
        return ArtifactFromRow(rows[0]);
    });
}

v1::ParetoFront Store::GetParetoFront(const std::string& job_id) {
    CheckUuid(job_id, "job_id");
    return impl_->Transact("GetParetoFront", [&](pqxx::work& tx) {
        const pqxx::result job = Exec(tx, sql::kJobObjectives, job_id);
        if (job.empty()) throw NotFound("no job " + job_id, "job_id");
        v1::ParetoFront front;
        front.set_job_id(job_id);
        const std::vector<std::string> names = SplitCsv(job[0]["objectives"].as<std::string>());
        for (const std::string& name : names) front.add_objectives(ParseObjective(name));
        // Ordered by the job's first objective: the view's column of that name.
        const std::string& first = names.at(0);
        struct Row {
            double key;
            int number;
            std::string id;
        };
        std::vector<Row> rows;
        for (const pqxx::row& r : Exec(tx, sql::kParetoFront, job_id)) {
            rows.push_back(
                {r[first].as<double>(), r["number"].as<int>(), r["trial_id"].as<std::string>()});
        }
        std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.key != b.key ? a.key < b.key : a.number < b.number;
        });
        std::vector<std::string> ids;
        for (const Row& row : rows) ids.push_back(row.id);
        for (v1::Trial& trial : LoadTrials(tx, ids)) *front.add_trials() = std::move(trial);
        const pqxx::result hv = Exec(tx, sql::kLatestHypervolume, job_id);
        if (!hv.empty()) {
            front.set_hypervolume(hv[0]["hypervolume"].as<double>());
            for (const std::string& x : SplitCsv(hv[0]["reference_point"].as<std::string>())) {
                double value = 0;
                std::from_chars(x.data(), x.data() + x.size(), value);
                front.add_reference_point(value);
            }
        }
        return front;
    });
}

void Store::RecordHypervolume(const std::string& job_id, const HypervolumePoint& point) {
    CheckUuid(job_id, "job_id");
    if (!point.trial_id.empty()) CheckUuid(point.trial_id, "trial_id");
    if (point.completed_trials < 0) throw InvalidArgument("must be >= 0", "completed_trials");
    if (point.front_size < 0) throw InvalidArgument("must be >= 0", "front_size");
    if (!std::isfinite(point.hypervolume) || point.hypervolume < 0) {
        throw InvalidArgument("must be finite and >= 0", "hypervolume");
    }
    for (double x : point.reference_point) {
        if (!std::isfinite(x)) throw InvalidArgument("must be finite", "reference_point");
    }
    v1::HypervolumeUpdated event;
    event.set_hypervolume(point.hypervolume);
    event.set_completed_trials(point.completed_trials);
    impl_->Transact("RecordHypervolume", [&](pqxx::work& tx) {
        RequireJob(tx, job_id);
        if (!point.trial_id.empty()) RequireTrialOfJob(tx, point.trial_id, job_id);
        Exec(tx, sql::kUpsertHypervolume, job_id, point.completed_trials,
             NullIfEmpty(point.trial_id), FormatDouble(point.hypervolume), point.front_size,
             DoubleArray(point.reference_point));
        Exec(tx, sql::kAppendJobEvent, job_id, "hypervolume", ToJson(event));
    });
}

// ---- Events ----

int64_t Store::AppendJobEvent(const std::string& job_id, const v1::JobEvent& event) {
    CheckUuid(job_id, "job_id");
    const char* kind = nullptr;
    std::string payload;
    switch (event.kind_case()) {
        case v1::JobEvent::kProgress:
            kind = "progress";
            payload = ToJson(event.progress());
            break;
        case v1::JobEvent::kFront:
            kind = "front";
            payload = ToJson(event.front());
            break;
        case v1::JobEvent::kHypervolume:
            kind = "hypervolume";
            payload = ToJson(event.hypervolume());
            break;
        case v1::JobEvent::kTrialState:
        case v1::JobEvent::kJobState:
            throw InvalidArgument("state events are written with each state change", "kind");
        case v1::JobEvent::KIND_NOT_SET:
            throw InvalidArgument("required", "kind");
    }
    return impl_->Transact("AppendJobEvent", [&](pqxx::work& tx) {
        RequireJob(tx, job_id);
        return tx.exec_prepared1(sql::kAppendJobEvent.name, job_id, kind, payload)["event_id"]
            .as<int64_t>();
    });
}

std::vector<v1::JobEvent> Store::ReadJobEvents(const std::string& job_id, int64_t after_event_id,
                                               int limit) {
    CheckUuid(job_id, "job_id");
    if (after_event_id < 0) throw InvalidArgument("must be >= 0", "after_event_id");
    if (limit < 1 || limit > 10000) throw InvalidArgument("must be between 1 and 10000", "limit");
    return impl_->Transact("ReadJobEvents", [&](pqxx::work& tx) {
        RequireJob(tx, job_id);
        std::vector<v1::JobEvent> events;
        for (const pqxx::row& r : Exec(tx, sql::kReadJobEvents, job_id, after_event_id, limit)) {
            v1::JobEvent& e = events.emplace_back();
            e.set_event_id(r["event_id"].as<int64_t>());
            e.set_job_id(job_id);
            SetTimestamp(r["created_us"], &e, &v1::JobEvent::mutable_time);
            const std::string kind = r["kind"].as<std::string>();
            const std::string payload = r["payload"].as<std::string>();
            if (kind == "trial_state") {
                FromJson(payload, e.mutable_trial_state());
            } else if (kind == "job_state") {
                FromJson(payload, e.mutable_job_state());
            } else if (kind == "progress") {
                FromJson(payload, e.mutable_progress());
            } else if (kind == "front") {
                FromJson(payload, e.mutable_front());
            } else if (kind == "hypervolume") {
                FromJson(payload, e.mutable_hypervolume());
            }
        }
        return events;
    });
}

// ---- Agents and boards ----

void Store::RegisterAgent(const AgentRegistration& agent) {
    RequireNonEmpty(agent.agent_id, "agent_id");
    std::vector<const v1::Board*> boards;
    std::set<std::string> ids;
    for (size_t i = 0; i < agent.boards.size(); ++i) {
        const std::string at = "boards[" + std::to_string(i) + "]";
        const v1::Board& b = agent.boards[i];
        RequireNonEmpty(b.board_id(), (at + ".board_id").c_str());
        RequireNonEmpty(b.board_type(), (at + ".board_type").c_str());
        if (!ids.insert(b.board_id()).second) {
            throw InvalidArgument("'" + b.board_id() + "' appears twice", at + ".board_id");
        }
        if (b.debugger() != v1::DEBUGGER_UNSPECIFIED && DebuggerName(b.debugger())[0] == '\0') {
            throw InvalidArgument("not a known debugger", at + ".debugger");
        }
        if (MeterName(b.meter())[0] == '\0')
            throw InvalidArgument("not a known meter", at + ".meter");
        boards.push_back(&b);
    }
    // Boards in id order, so two agents registering the same boards cannot deadlock.
    std::sort(boards.begin(), boards.end(),
              [](const v1::Board* a, const v1::Board* b) { return a->board_id() < b->board_id(); });
    impl_->Transact("RegisterAgent", [&](pqxx::work& tx) {
        Exec(tx, sql::kUpsertAgent, agent.agent_id, agent.hostname, agent.version);
        for (const v1::Board* b : boards) {
            const char* health = b->health() == v1::BOARD_HEALTH_UNSPECIFIED
                                     ? "unknown"
                                     : BoardHealthName(b->health());
            const char* debugger =
                b->debugger() == v1::DEBUGGER_UNSPECIFIED ? "openocd" : DebuggerName(b->debugger());
            Exec(tx, sql::kUpsertBoard, b->board_id(), agent.agent_id, b->board_type(),
                 b->probe_serial(), debugger, b->serial_port(), MeterName(b->meter()),
                 b->meter_port(), health, b->health_reason());
        }
        Exec(tx, sql::kDeactivateMissingBoards, agent.agent_id,
             TextArray(std::vector<std::string>(ids.begin(), ids.end())));
    });
}

void Store::ReportBoardHealth(const std::string& agent_id, const std::string& board_id,
                              v1::BoardHealth health, const std::string& reason) {
    RequireNonEmpty(agent_id, "agent_id");
    RequireNonEmpty(board_id, "board_id");
    const char* name = BoardHealthName(health);
    if (name[0] == '\0') throw InvalidArgument("required", "health");
    impl_->Transact("ReportBoardHealth", [&](pqxx::work& tx) {
        if (Exec(tx, sql::kSetBoardHealth, board_id, agent_id, name, reason).affected_rows() == 0) {
            throw NotFound("agent " + agent_id + " has no board " + board_id, "board_id");
        }
    });
}

std::vector<v1::Board> Store::ListBoards() {
    return impl_->Transact("ListBoards", [&](pqxx::work& tx) {
        std::vector<v1::Board> boards;
        for (const pqxx::row& r : Exec(tx, sql::kListBoards)) {
            v1::Board& b = boards.emplace_back();
            b.set_board_id(r["id"].as<std::string>());
            b.set_board_type(r["board_type"].as<std::string>());
            b.set_probe_serial(r["probe_serial"].as<std::string>());
            b.set_debugger(ParseDebugger(r["debugger"].as<std::string>()));
            b.set_serial_port(r["serial_port"].as<std::string>());
            b.set_meter(ParseMeter(r["meter"].as<std::string>()));
            b.set_meter_port(r["meter_port"].as<std::string>());
            b.set_health(ParseBoardHealth(r["health"].as<std::string>()));
            b.set_health_reason(r["health_reason"].as<std::string>());
        }
        return boards;
    });
}

Store::LiveWorkers Store::LiveWorkerDatasets(std::chrono::seconds window) {
    return impl_->Transact("LiveWorkerDatasets", [&](pqxx::work& tx) {
        const pqxx::result rows = Exec(tx, sql::kLiveWorkers, static_cast<double>(window.count()));
        const pqxx::row r = rows.front();
        LiveWorkers out;
        out.workers = r["workers"].as<int>();
        out.any_dataset = r["any_dataset"].as<bool>();
        std::istringstream names(r["datasets"].as<std::string>());
        for (std::string name; std::getline(names, name);) out.datasets.push_back(name);
        return out;
    });
}

}  // namespace hilnas::store
