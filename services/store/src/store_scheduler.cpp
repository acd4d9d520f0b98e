// Store: what the job scheduler reads and writes (controller/src/scheduler.cpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "store_impl.h"

namespace hilnas::store {

ActiveJobs Store::ListActiveJobs(std::optional<uint64_t> since,
                                 const std::vector<std::string>& also) {
    for (const std::string& id : also) CheckUuid(id, "also");
    return impl_->Transact("ListActiveJobs", [&](pqxx::work& tx) {
        ActiveJobs out;
        // First, so that it is no later than the snapshot of the read below.
        out.watermark = Exec(tx, sql::kChangeWatermark)[0]["watermark"].as<uint64_t>();
        const pqxx::result rows =
            since ? Exec(tx, sql::kChangedActiveJobs, std::to_string(*since), TextArray(also))
                  : Exec(tx, sql::kAllActiveJobs);
        std::vector<std::string> ids;
        ids.reserve(rows.size());
        for (const pqxx::row& r : rows) ids.push_back(r["id"].as<std::string>());
        out.jobs = LoadJobs(tx, ids);
        return out;
    });
}

SchedulingView Store::LoadSchedulingView(const std::string& job_id) {
    CheckUuid(job_id, "job_id");
    return impl_->Transact("LoadSchedulingView", [&](pqxx::work& tx) {
        SchedulingView view;
        std::map<std::string, size_t> index;
        for (const pqxx::row& r : Exec(tx, sql::kSchedulingTrials, job_id)) {
            v1::Trial& t = view.trials.emplace_back();
            t.set_trial_id(r["id"].as<std::string>());
            t.set_job_id(job_id);
            t.set_number(r["number"].as<int>());
            t.set_state(ParseTrialState(r["state"].as<std::string>()));
            FromJson(r["candidate"].as<std::string>(), t.mutable_candidate());
            index.emplace(t.trial_id(), view.trials.size() - 1);
        }
        for (const pqxx::row& r : Exec(tx, sql::kSchedulingObjectives, job_id)) {
            auto it = index.find(r["trial_id"].as<std::string>());
            if (it == index.end()) continue;
            v1::ObjectiveValue* o = view.trials[it->second].add_objectives();
            o->set_objective(ParseObjective(r["objective"].as<std::string>()));
            o->set_value(r["value"].as<double>());
            o->set_source(ParseMetricSource(r["source"].as<std::string>()));
        }
        const pqxx::result latest = Exec(tx, sql::kLatestRecordedFront, job_id);
        if (!latest.empty())
            view.recorded_completed_trials = latest[0]["completed_trials"].as<int>();
        return view;
    });
}

bool Store::RecordFront(const std::string& job_id, const HypervolumePoint& point,
                        const std::vector<std::string>& front_trial_ids) {
    CheckUuid(job_id, "job_id");
    if (!point.trial_id.empty()) CheckUuid(point.trial_id, "trial_id");
    for (const std::string& id : front_trial_ids) CheckUuid(id, "front_trial_ids");
    if (point.completed_trials < 0) throw InvalidArgument("must be >= 0", "completed_trials");
    if (point.front_size < 0) throw InvalidArgument("must be >= 0", "front_size");
    if (!std::isfinite(point.hypervolume) || point.hypervolume < 0) {
        throw InvalidArgument("must be finite and >= 0", "hypervolume");
    }
    for (double x : point.reference_point) {
        if (!std::isfinite(x)) throw InvalidArgument("must be finite", "reference_point");
    }
    const std::set<std::string> front(front_trial_ids.begin(), front_trial_ids.end());
    v1::HypervolumeUpdated hv_event;
    hv_event.set_hypervolume(point.hypervolume);
    hv_event.set_completed_trials(point.completed_trials);
    return impl_->Transact("RecordFront", [&](pqxx::work& tx) {
        // The job's row lock orders recorders of the same job (lock order: jobs first).
        if (Exec(tx, sql::kLockJob, job_id).empty()) throw NotFound("no job " + job_id, "job_id");
        std::set<std::string> previous;
        const pqxx::result latest = Exec(tx, sql::kLatestRecordedFront, job_id);
        if (!latest.empty()) {
            if (latest[0]["completed_trials"].as<int>() >= point.completed_trials) return false;
            for (std::string& id : SplitCsv(latest[0]["front_trial_ids"].as<std::string>())) {
                previous.insert(std::move(id));
            }
        }
        if (!point.trial_id.empty()) RequireTrialOfJob(tx, point.trial_id, job_id);
        Exec(tx, sql::kInsertHypervolumeWithFront, job_id, point.completed_trials,
             NullIfEmpty(point.trial_id), FormatDouble(point.hypervolume), point.front_size,
             DoubleArray(point.reference_point),
             TextArray(std::vector<std::string>(front.begin(), front.end())));
        Exec(tx, sql::kAppendJobEvent, job_id, "hypervolume", ToJson(hv_event));
        if (front != previous) {
            v1::FrontChanged changed;
            for (const std::string& id : front) {
                if (!previous.count(id)) changed.add_added_trial_ids(id);
            }
            for (const std::string& id : previous) {
                if (!front.count(id)) changed.add_removed_trial_ids(id);
            }
            changed.set_front_size(static_cast<int>(front.size()));
            Exec(tx, sql::kAppendJobEvent, job_id, "front", ToJson(changed));
        }
        return true;
    });
}

}  // namespace hilnas::store
