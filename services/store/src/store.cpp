// Store: construction, jobs and trials.
#include <algorithm>
#include <map>
#include <set>

#include "hilnas/catalog/jobs.h"
#include "hilnas/catalog/objectives.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/store/migrations.h"
#include "store_impl.h"

namespace hilnas::store {

namespace {

constexpr size_t kMaxTrialsPerInsert = 10000;
constexpr size_t kInsertChunk = 1000;

void SetupConnection(pqxx::connection& conn, const std::string& application_name,
                     std::chrono::milliseconds statement_timeout) {
    // A client that hangs inside a transaction must not hold its row locks forever.
    const auto idle = std::max(std::chrono::milliseconds(60000), statement_timeout * 10);
    pqxx::nontransaction tx(conn);
    tx.exec_params(
        "SELECT set_config('application_name', $1, false), "
        "set_config('statement_timeout', $2, false), "
        "set_config('idle_in_transaction_session_timeout', $3, false)",
        application_name, std::to_string(statement_timeout.count()), std::to_string(idle.count()));
    // A database the migrations have not reached would fail every query obscurely.
    int version = 0;
    const pqxx::row table =
        tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    if (table["present"].as<bool>()) {
        const pqxx::row newest =
            tx.exec1("SELECT coalesce(max(version), 0) AS version FROM schema_migrations");
        version = newest["version"].as<int>();
    }
    const int wanted = EmbeddedMigrations().back().version;
    if (version < wanted) {
        throw FailedPrecondition("the database schema is at version " + std::to_string(version) +
                                 ", this program needs " + std::to_string(wanted) +
                                 ": run `hilnas-controller migrate`");
    }
    for (const sql::Query& query : sql::kAll) conn.prepare(query.name, query.text);
}

StoreOptions Checked(StoreOptions options) {
    if (options.dsn.empty()) throw InvalidArgument("required", "dsn");
    if (options.pool_size < 1 || options.pool_size > 1000) {
        throw InvalidArgument("must be between 1 and 1000", "pool_size");
    }
    if (options.statement_timeout.count() <= 0) {
        throw InvalidArgument("must be positive", "statement_timeout");
    }
    if (options.max_lease.count() <= 0 || options.default_lease.count() <= 0 ||
        options.default_lease > options.max_lease) {
        throw InvalidArgument("must be positive and at most max_lease", "default_lease");
    }
    if (options.max_artifact_bytes <= 0) {
        throw InvalidArgument("must be positive", "max_artifact_bytes");
    }
    if (options.board_failure_limit < 1) {
        throw InvalidArgument("must be at least 1", "board_failure_limit");
    }
    return options;
}

void SetCount(v1::TrialCounts* counts, const std::string& state, int n) {
    switch (ParseTrialState(state)) {
        case v1::TRIAL_PENDING:
            counts->set_pending(n);
            break;
        case v1::TRIAL_TRAINING:
            counts->set_training(n);
            break;
        case v1::TRIAL_TRAINED:
            counts->set_trained(n);
            break;
        case v1::TRIAL_MEASURING:
            counts->set_measuring(n);
            break;
        case v1::TRIAL_COMPLETE:
            counts->set_complete(n);
            break;
        case v1::TRIAL_FAILED:
            counts->set_failed(n);
            break;
        case v1::TRIAL_INFEASIBLE:
            counts->set_infeasible(n);
            break;
        case v1::TRIAL_STALE:
            counts->set_stale(n);
            break;
        default:
            break;
    }
}

void FillMeasurement(const pqxx::row& r, v1::Measurement* m) {
    m->set_board_id(r["board_id"].as<std::string>());
    m->set_board_type(r["board_type"].as<std::string>());
    m->set_agent_id(r["agent_id"].as<std::string>());
    m->set_cycles(r["cycles"].as<uint64_t>());
    m->set_latency_ms(r["latency_ms"].as<double>());
    if (!r["energy_uj"].is_null()) m->set_energy_uj(r["energy_uj"].as<double>());
    m->set_source(ParseMetricSource(r["source"].as<std::string>()));
    if (!r["energy_source"].is_null()) {
        m->set_energy_source(ParseMetricSource(r["energy_source"].as<std::string>()));
    }
    v1::SramUsage* sram = m->mutable_sram();
    sram->set_static_bytes(r["sram_static_bytes"].as<int64_t>());
    sram->set_stack_bytes(r["sram_stack_bytes"].as<int64_t>());
    sram->set_arena_bytes(r["sram_arena_bytes"].as<int64_t>());
    sram->set_total_bytes(r["sram_bytes"].as<int64_t>());
    v1::FlashUsage* flash = m->mutable_flash();
    flash->set_text_bytes(r["flash_text_bytes"].as<int64_t>());
    flash->set_rodata_bytes(r["flash_rodata_bytes"].as<int64_t>());
    flash->set_data_bytes(r["flash_data_bytes"].as<int64_t>());
    flash->set_total_bytes(r["flash_bytes"].as<int64_t>());
    m->set_outputs_match_host(r["outputs_match_host"].as<bool>());
    v1::Provenance* p = m->mutable_provenance();
    p->set_toolchain(r["toolchain"].as<std::string>());
    p->set_firmware_sha256(r["firmware_sha256"].as<std::string>());
    p->set_clock_hz(r["clock_hz"].as<int64_t>());
    p->set_timing_method(r["timing_method"].as<std::string>());
    p->set_debugger(r["debugger"].as<std::string>());
    p->set_debugger_version(r["debugger_version"].as<std::string>());
    p->set_meter(r["meter"].as<std::string>());
    p->set_agent_version(r["agent_version"].as<std::string>());
    p->set_warmup_runs(r["warmup_runs"].as<int>());
    p->set_timed_runs(r["timed_runs"].as<int>());
    SetTimestamp(r["measured_us"], m, &v1::Measurement::mutable_measured_at);
    if (!r["latency_p10_ms"].is_null()) m->set_latency_p10_ms(r["latency_p10_ms"].as<double>());
    if (!r["latency_p90_ms"].is_null()) m->set_latency_p90_ms(r["latency_p90_ms"].as<double>());
    m->set_outputs_checked(r["outputs_checked"].as<int>());
    p->set_runtime_variant(r["runtime_variant"].as<std::string>());
    p->set_meter_version(r["meter_version"].as<std::string>());
}

std::vector<std::string> ValidObjectiveNames(const v1::JobSpec& spec) {
    const std::vector<int> ids(spec.objectives().begin(), spec.objectives().end());
    catalog::CheckObjectives(ids, spec.measurement().skip(),
                             static_cast<int>(catalog::Objectives().size()));
    std::vector<std::string> names;
    for (int id : ids) names.emplace_back(catalog::ObjectiveName(id));
    return names;
}

}  // namespace

// ---- Construction ----

Store::Impl::Impl(StoreOptions checked)
    : options(std::move(checked)),
      pool_(options.dsn, options.pool_size, options.pool_wait,
            [app = options.application_name, timeout = options.statement_timeout](
                pqxx::connection& conn) { SetupConnection(conn, app, timeout); }),
      statement_timeout_(std::to_string(options.statement_timeout.count())) {}

int64_t Store::Impl::LeaseMillis(std::chrono::milliseconds lease) const {
    if (lease.count() == 0) return options.default_lease.count();
    if (lease.count() < 0 || lease > options.max_lease) {
        throw InvalidArgument(
            "must be between 1 ms and " + std::to_string(options.max_lease.count()) + " ms",
            "lease_duration");
    }
    return lease.count();
}

Store::Store(StoreOptions options) : impl_(std::make_unique<Impl>(Checked(std::move(options)))) {}

Store::~Store() = default;

const StoreOptions& Store::options() const { return impl_->options; }

std::string RequireNonEmpty(const std::string& value, const char* field, size_t max_length) {
    if (value.empty()) throw InvalidArgument("required", field);
    if (value.size() > max_length) {
        throw InvalidArgument("at most " + std::to_string(max_length) + " characters", field);
    }
    return value;
}

// ---- Loading ----

std::vector<v1::Job> LoadJobs(pqxx::work& tx, const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    const std::string array = TextArray(ids);
    std::map<std::string, v1::Job> by_id;
    for (const pqxx::row& r : Exec(tx, sql::kLoadJobs, array)) {
        v1::Job job;
        job.set_job_id(r["id"].as<std::string>());
        job.set_owner(r["owner"].as<std::string>());
        FromJson(r["spec"].as<std::string>(), job.mutable_spec());
        job.set_state(ParseJobState(r["state"].as<std::string>()));
        job.set_error(r["error"].as<std::string>());
        SetTimestamp(r["created_us"], &job, &v1::Job::mutable_created_at);
        SetTimestamp(r["started_us"], &job, &v1::Job::mutable_started_at);
        SetTimestamp(r["finished_us"], &job, &v1::Job::mutable_finished_at);
        job.set_hypervolume(r["hypervolume"].as<double>());
        job.set_front_size(r["front_size"].as<int>());
        job.mutable_trials();  // present even when the job has none
        by_id.emplace(job.job_id(), std::move(job));
    }
    for (const pqxx::row& r : Exec(tx, sql::kLoadTrialCounts, array)) {
        auto it = by_id.find(r["job_id"].as<std::string>());
        if (it != by_id.end()) {
            SetCount(it->second.mutable_trials(), r["state"].as<std::string>(), r["n"].as<int>());
        }
    }
    std::vector<v1::Job> jobs;
    for (const std::string& id : ids) {
        auto it = by_id.find(id);
        if (it != by_id.end()) jobs.push_back(std::move(it->second));
    }
    return jobs;
}

std::vector<v1::Trial> LoadTrials(pqxx::work& tx, const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    const std::string array = TextArray(ids);
    std::map<std::string, v1::Trial> by_id;
    for (const pqxx::row& r : Exec(tx, sql::kLoadTrials, array)) {
        v1::Trial trial;
        trial.set_trial_id(r["id"].as<std::string>());
        trial.set_job_id(r["job_id"].as<std::string>());
        trial.set_number(r["number"].as<int>());
        trial.set_parent_trial_id(r["parent_trial_id"].as<std::string>());
        FromJson(r["candidate"].as<std::string>(), trial.mutable_candidate());
        trial.set_state(ParseTrialState(r["state"].as<std::string>()));
        trial.set_attempts(r["attempts"].as<int>());
        trial.set_last_error(r["last_error"].as<std::string>());
        SetTimestamp(r["created_us"], &trial, &v1::Trial::mutable_created_at);
        SetTimestamp(r["updated_us"], &trial, &v1::Trial::mutable_updated_at);
        trial.set_on_front(r["on_front"].as<bool>());
        by_id.emplace(trial.trial_id(), std::move(trial));
    }
    auto find = [&](const pqxx::field& id) -> v1::Trial* {
        auto it = by_id.find(id.as<std::string>());
        return it == by_id.end() ? nullptr : &it->second;
    };
    for (const pqxx::row& r : Exec(tx, sql::kLoadMetrics, array)) {
        if (v1::Trial* t = find(r["trial_id"])) {
            v1::Metric* m = t->add_metrics();
            m->set_name(r["name"].as<std::string>());
            m->set_value(r["value"].as<double>());
            m->set_source(ParseMetricSource(r["source"].as<std::string>()));
        }
    }
    for (const pqxx::row& r : Exec(tx, sql::kLoadObjectives, array)) {
        if (v1::Trial* t = find(r["trial_id"])) {
            v1::ObjectiveValue* o = t->add_objectives();
            o->set_objective(ParseObjective(r["objective"].as<std::string>()));
            o->set_value(r["value"].as<double>());
            o->set_source(ParseMetricSource(r["source"].as<std::string>()));
        }
    }
    for (const pqxx::row& r : Exec(tx, sql::kLoadMeasurements, array)) {
        if (v1::Trial* t = find(r["trial_id"])) FillMeasurement(r, t->add_measurements());
    }
    for (const pqxx::row& r : Exec(tx, sql::kLoadArtifactRefs, array)) {
        if (v1::Trial* t = find(r["trial_id"])) {
            v1::ArtifactRef* a = t->add_artifacts();
            a->set_artifact_id(r["id"].as<std::string>());
            a->set_trial_id(r["trial_id"].as<std::string>());
            a->set_kind(ParseArtifactKind(r["kind"].as<std::string>()));
            a->set_sha256(r["sha256"].as<std::string>());
            a->set_size_bytes(r["size_bytes"].as<int64_t>());
        }
    }
    std::vector<v1::Trial> trials;
    for (const std::string& id : ids) {
        auto it = by_id.find(id);
        if (it != by_id.end()) trials.push_back(std::move(it->second));
    }
    return trials;
}

// ---- Jobs ----

v1::Job Store::CreateJob(const std::string& owner, const v1::JobSpec& spec,
                         const std::string& request_id) {
    if (owner.size() > 200) throw InvalidArgument("at most 200 characters", "owner");
    if (request_id.size() > 200) throw InvalidArgument("at most 200 characters", "request_id");
    if (spec.name().size() > 200) throw InvalidArgument("at most 200 characters", "spec.name");
    RequireNonEmpty(spec.board_type(), "spec.board_type");
    const std::vector<std::string> objectives = ValidObjectiveNames(spec);
    const int max_attempts = catalog::ResolveMaxAttempts(spec.budget().max_attempts());
    const std::string dataset =
        spec.dataset().name().empty() ? dataset::kDefaultDataset : spec.dataset().name();
    const std::string json = ToJson(spec);

    return impl_->Transact("CreateJob", [&](pqxx::work& tx) {
        std::string id;
        const pqxx::result inserted = Exec(
            tx, sql::kInsertJob, spec.name(), owner, NullIfEmpty(request_id), json, dataset,
            spec.board_type(), TextArray(objectives), !spec.measurement().skip(), max_attempts);
        if (!inserted.empty()) {
            id = inserted[0]["id"].as<std::string>();
        } else {
            // The request_id was used before: the same spec is the same job.
            const pqxx::row existing =
                tx.exec_prepared1(sql::kFindJobByRequest.name, owner, request_id, json);
            if (!existing["same_spec"].as<bool>()) {
                throw AlreadyExists("was used before with a different spec", "request_id");
            }
            id = existing["id"].as<std::string>();
        }
        return LoadJobs(tx, {id}).at(0);
    });
}

v1::Job Store::GetJob(const std::string& job_id) {
    CheckUuid(job_id, "job_id");
    return impl_->Transact("GetJob", [&](pqxx::work& tx) {
        std::vector<v1::Job> jobs = LoadJobs(tx, {job_id});
        if (jobs.empty()) throw NotFound("no job " + job_id, "job_id");
        return std::move(jobs.front());
    });
}

JobPage Store::ListJobs(const JobFilter& filter, int page_size, const std::string& page_token) {
    const int size = ClampPageSize(page_size);
    std::string after_us;
    std::string after_id;
    if (!page_token.empty()) {
        const std::string payload = DecodePageToken('j', page_token);
        const size_t colon = payload.find(':');
        after_us = payload.substr(0, colon);
        after_id = colon == std::string::npos ? "" : payload.substr(colon + 1);
        const bool digits = !after_us.empty() && after_us.size() < 20 &&
                            std::all_of(after_us.begin(), after_us.end(),
                                        [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
        if (!digits) throw InvalidArgument("not a page token from this server", "page_token");
        CheckUuid(after_id, "page_token");
    }
    const std::string state =
        filter.state == v1::JOB_STATE_UNSPECIFIED ? "" : JobStateName(filter.state);
    return impl_->Transact("ListJobs", [&](pqxx::work& tx) {
        const pqxx::result rows = Exec(tx, sql::kListJobIds, state, filter.owner,
                                       NullIfEmpty(after_us), NullIfEmpty(after_id), size + 1);
        std::vector<std::string> ids;
        JobPage page;
        for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
            ids.push_back(rows[i]["id"].as<std::string>());
        }
        if (static_cast<int>(rows.size()) > size) {
            const pqxx::row& last = rows[size - 1];
            page.next_page_token = EncodePageToken(
                'j', last["created_us"].as<std::string>() + ":" + last["id"].as<std::string>());
        }
        page.jobs = LoadJobs(tx, ids);
        return page;
    });
}

v1::Job Store::SetJobState(const std::string& job_id, v1::JobState state,
                           const std::string& reason) {
    CheckUuid(job_id, "job_id");
    if (state != v1::JOB_RUNNING && state != v1::JOB_COMPLETED && state != v1::JOB_FAILED) {
        throw InvalidArgument("must be RUNNING, COMPLETED or FAILED (CancelJob cancels)", "state");
    }
    const std::string to = JobStateName(state);
    return impl_->Transact("SetJobState", [&](pqxx::work& tx) {
        const pqxx::result job = Exec(tx, sql::kLockJob, job_id);
        if (job.empty()) throw NotFound("no job " + job_id, "job_id");
        const std::string from = job[0]["state"].as<std::string>();
        if (from != to) {
            if (state != v1::JOB_RUNNING) {
                Exec(tx, sql::kLockJobTrials, job_id);
                Exec(tx, sql::kStaleUnleasedTrials, job_id, "job " + to);
            }
            // The schema's state machine refuses what it does not allow (FailedPrecondition).
            Exec(tx, sql::kSetJobState, job_id, to, reason);
        }
        return LoadJobs(tx, {job_id}).at(0);
    });
}

v1::Job Store::CancelJob(const std::string& job_id, const std::string& reason) {
    CheckUuid(job_id, "job_id");
    const std::string why = reason.empty() ? "cancelled" : "cancelled: " + reason;
    return impl_->Transact("CancelJob", [&](pqxx::work& tx) {
        const pqxx::result job = Exec(tx, sql::kLockJob, job_id);
        if (job.empty()) throw NotFound("no job " + job_id, "job_id");
        const std::string state = job[0]["state"].as<std::string>();
        if (state == "cancelled" || state == "completed" || state == "failed") {
            throw FailedPrecondition("job " + job_id + " has already finished (" + state + ")");
        }
        if (state == "pending" || state == "running") {
            // Lock every unfinished trial first, so none changes between the
            // count of leased ones and the job's new state.
            int leased = 0;
            for (const pqxx::row& r : Exec(tx, sql::kLockJobTrials, job_id)) {
                if (r["leased"].as<bool>()) ++leased;
            }
            Exec(tx, sql::kStaleUnleasedTrials, job_id, "job " + why);
            Exec(tx, sql::kSetJobState, job_id, leased > 0 ? "cancelling" : "cancelled", why);
        }
        return LoadJobs(tx, {job_id}).at(0);
    });
}

// ---- Trials ----

std::vector<std::string> Store::InsertTrials(const std::string& job_id,
                                             const std::vector<NewTrial>& trials,
                                             std::optional<int> after_number) {
    CheckUuid(job_id, "job_id");
    if (trials.empty()) return {};
    if (trials.size() > kMaxTrialsPerInsert) {
        throw InvalidArgument("at most " + std::to_string(kMaxTrialsPerInsert) + " per call",
                              "trials");
    }
    if (after_number && *after_number < 0) throw InvalidArgument("must be >= 0", "after_number");
    std::vector<std::string> candidates;
    std::vector<std::string> parents;
    std::set<std::string> distinct_parents;
    for (size_t i = 0; i < trials.size(); ++i) {
        candidates.push_back(ToJson(trials[i].candidate));
        const std::string& parent = trials[i].parent_trial_id;
        if (!parent.empty()) {
            const std::string field = "trials[" + std::to_string(i) + "].parent_trial_id";
            CheckUuid(parent, field.c_str());
            distinct_parents.insert(parent);
        }
        parents.push_back(parent);
    }
    return impl_->Transact("InsertTrials", [&](pqxx::work& tx) {
        const pqxx::result reserved =
            Exec(tx, sql::kReserveTrialNumbers, job_id, static_cast<int>(trials.size()),
                 NullIfEmpty(after_number ? std::to_string(*after_number) : std::string()));
        if (reserved.empty()) {
            const pqxx::result job = Exec(tx, sql::kJobStateAndLastNumber, job_id);
            if (job.empty()) throw NotFound("no job " + job_id, "job_id");
            const std::string state = job[0]["state"].as<std::string>();
            if (state != "pending" && state != "running") {
                throw FailedPrecondition("job " + job_id + " has stopped; it takes no new trials");
            }
            throw FailedPrecondition("job " + job_id + " has trials up to number " +
                                     job[0]["last_number"].as<std::string>() + ", not " +
                                     std::to_string(after_number.value_or(0)) +
                                     ": it changed meanwhile");
        }
        const int first = reserved[0]["first_number"].as<int>();
        if (!distinct_parents.empty()) {
            const std::vector<std::string> wanted(distinct_parents.begin(), distinct_parents.end());
            const int found =
                Exec(tx, sql::kCountTrialsOfJob, job_id, TextArray(wanted))[0]["n"].as<int>();
            if (found != static_cast<int>(wanted.size())) {
                throw NotFound("a parent is not a trial of job " + job_id, "parent_trial_id");
            }
        }
        std::vector<std::string> ids(trials.size());
        for (size_t begin = 0; begin < trials.size(); begin += kInsertChunk) {
            const size_t end = std::min(trials.size(), begin + kInsertChunk);
            std::string numbers = "{";
            for (size_t i = begin; i < end; ++i) {
                if (i > begin) numbers += ',';
                numbers += std::to_string(first + static_cast<int>(i));
            }
            numbers += '}';
            const std::vector<std::string> chunk_candidates(candidates.begin() + begin,
                                                            candidates.begin() + end);
            const std::vector<std::string> chunk_parents(parents.begin() + begin,
                                                         parents.begin() + end);
            for (const pqxx::row& r : Exec(tx, sql::kInsertTrials, job_id, numbers,
                                           TextArray(chunk_candidates), TextArray(chunk_parents))) {
                ids.at(static_cast<size_t>(r["number"].as<int>() - first)) =
                    r["id"].as<std::string>();
            }
        }
        return ids;
    });
}

v1::Trial Store::GetTrial(const std::string& trial_id) {
    CheckUuid(trial_id, "trial_id");
    return impl_->Transact("GetTrial", [&](pqxx::work& tx) {
        std::vector<v1::Trial> trials = LoadTrials(tx, {trial_id});
        if (trials.empty()) throw NotFound("no trial " + trial_id, "trial_id");
        return std::move(trials.front());
    });
}

TrialPage Store::ListTrials(const std::string& job_id, v1::TrialState state, int page_size,
                            const std::string& page_token) {
    CheckUuid(job_id, "job_id");
    const int size = ClampPageSize(page_size);
    int after = 0;
    if (!page_token.empty()) {
        const std::string payload = DecodePageToken('t', page_token);
        const size_t colon = payload.find(':');
        if (colon == std::string::npos || payload.substr(0, colon) != job_id) {
            throw InvalidArgument("not a page token for this job", "page_token");
        }
        const std::string number = payload.substr(colon + 1);
        if (number.empty() || number.size() > 9 ||
            !std::all_of(number.begin(), number.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            throw InvalidArgument("not a page token from this server", "page_token");
        }
        after = std::stoi(number);
    }
    const std::string state_name =
        state == v1::TRIAL_STATE_UNSPECIFIED ? "" : TrialStateName(state);
    return impl_->Transact("ListTrials", [&](pqxx::work& tx) {
        if (Exec(tx, sql::kJobExists, job_id).empty()) {
            throw NotFound("no job " + job_id, "job_id");
        }
        const pqxx::result rows = Exec(tx, sql::kListTrialIds, job_id, state_name, after, size + 1);
        std::vector<std::string> ids;
        TrialPage page;
        for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
            ids.push_back(rows[i]["id"].as<std::string>());
        }
        if (static_cast<int>(rows.size()) > size) {
            page.next_page_token =
                EncodePageToken('t', job_id + ":" + rows[size - 1]["number"].as<std::string>());
        }
        page.trials = LoadTrials(tx, ids);
        return page;
    });
}

void Store::MarkTrialInfeasible(const std::string& trial_id, const std::string& reason) {
    CheckUuid(trial_id, "trial_id");
    RequireNonEmpty(reason, "reason", 10000);
    impl_->Transact("MarkTrialInfeasible", [&](pqxx::work& tx) {
        const pqxx::result trial = Exec(tx, sql::kLockTrial, trial_id);
        if (trial.empty()) throw NotFound("no trial " + trial_id, "trial_id");
        const std::string state = trial[0]["state"].as<std::string>();
        if (state != "pending") {
            throw FailedPrecondition("trial " + trial_id + " is " + state + ", not pending");
        }
        Exec(tx, sql::kMarkInfeasible, trial_id, reason);
    });
}

}  // namespace hilnas::store
