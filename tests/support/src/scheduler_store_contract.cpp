#include "hilnas/testing/scheduler_store_contract.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "hilnas/common/errors.h"

namespace hilnas::testing {

namespace {

std::vector<store::NewTrial> NewTrials(int n) {
    std::vector<store::NewTrial> trials(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) trials[static_cast<size_t>(i)].candidate.add_encoding(0.125 * i);
    return trials;
}

bool Listed(const store::ActiveJobs& active, const std::string& job_id) {
    return std::any_of(active.jobs.begin(), active.jobs.end(),
                       [&](const v1::Job& j) { return j.job_id() == job_id; });
}

std::vector<v1::TrialState> States(store::SchedulerStore& store, const std::string& job_id) {
    std::vector<v1::TrialState> out;
    for (const v1::Trial& t : store.LoadSchedulingView(job_id).trials) out.push_back(t.state());
    return out;
}

}  // namespace

void ExpectSchedulerStoreContract(store::SchedulerStore& store, const CreateJobFn& create_job) {
    const std::string job = create_job();
    const std::string other = create_job();
    const std::string unknown = "ffffffff-ffff-4fff-bfff-ffffffffffff";

    // A full listing has every active job; a watermark, only what changed since.
    const store::ActiveJobs all = store.ListActiveJobs(std::nullopt);
    EXPECT_TRUE(Listed(all, job));
    EXPECT_TRUE(Listed(all, other));
    EXPECT_FALSE(Listed(store.ListActiveJobs(all.watermark), job));
    EXPECT_TRUE(Listed(store.ListActiveJobs(all.watermark, {job}), job));  // asked for

    // Trials are numbered after the last, and fenced on it.
    EXPECT_EQ(store.InsertTrials(job, NewTrials(2), 0).size(), 2u);
    EXPECT_THROW(store.InsertTrials(job, NewTrials(2), 0), FailedPrecondition);
    EXPECT_THROW(store.InsertTrials(job, NewTrials(1), 1), FailedPrecondition);
    EXPECT_THROW(store.InsertTrials(job, NewTrials(1), -1), InvalidArgument);
    EXPECT_EQ(store.InsertTrials(job, NewTrials(1), 2).size(), 1u);
    EXPECT_EQ(store.InsertTrials(job, NewTrials(1)).size(), 1u);  // unfenced
    const store::ActiveJobs changed = store.ListActiveJobs(all.watermark);
    EXPECT_TRUE(Listed(changed, job));
    EXPECT_FALSE(Listed(changed, other));
    EXPECT_GE(changed.watermark, all.watermark);

    store::SchedulingView view = store.LoadSchedulingView(job);
    ASSERT_EQ(view.trials.size(), 4u);
    const std::vector<int> expected_encoding_index = {0, 1, 0, 0};
    for (size_t i = 0; i < view.trials.size(); ++i) {
        const v1::Trial& t = view.trials[i];
        EXPECT_EQ(t.number(), static_cast<int>(i) + 1);
        EXPECT_EQ(t.state(), v1::TRIAL_PENDING);
        ASSERT_EQ(t.candidate().encoding_size(), 1);
        EXPECT_EQ(t.candidate().encoding(0), 0.125 * expected_encoding_index[i]);
    }
    EXPECT_EQ(view.recorded_completed_trials, 0);

    // A parent must be a trial of the same job.
    store::NewTrial child = NewTrials(1)[0];
    child.parent_trial_id = view.trials[0].trial_id();
    EXPECT_THROW(store.InsertTrials(other, {child}), NotFound);
    EXPECT_EQ(store.InsertTrials(job, {child}, 4).size(), 1u);
    EXPECT_THROW(store.InsertTrials(unknown, NewTrials(1)), NotFound);

    // The job state machine; a refused call changes nothing.
    EXPECT_THROW(store.SetJobState(job, v1::JOB_CANCELLED, "no"), InvalidArgument);
    EXPECT_THROW(store.SetJobState(job, v1::JOB_COMPLETED, "too soon"), FailedPrecondition);
    EXPECT_EQ(States(store, job), std::vector<v1::TrialState>(5, v1::TRIAL_PENDING));
    EXPECT_THROW(store.SetJobState(unknown, v1::JOB_RUNNING, "started"), NotFound);
    const v1::Job running = store.SetJobState(job, v1::JOB_RUNNING, "started");
    EXPECT_EQ(running.state(), v1::JOB_RUNNING);
    EXPECT_TRUE(running.has_started_at());
    EXPECT_EQ(store.SetJobState(job, v1::JOB_RUNNING, "again").started_at().seconds(),
              running.started_at().seconds());

    // A front is recorded once per completed-trial count, growing only.
    store::HypervolumePoint point;
    point.completed_trials = 2;
    point.trial_id = view.trials[1].trial_id();
    point.hypervolume = 0.25;
    point.front_size = 1;
    point.reference_point = {1.0, 1.0};
    const std::vector<std::string> front = {view.trials[0].trial_id()};
    EXPECT_TRUE(store.RecordFront(job, point, front));
    EXPECT_EQ(store.LoadSchedulingView(job).recorded_completed_trials, 2);
    EXPECT_FALSE(store.RecordFront(job, point, front));
    point.completed_trials = 1;
    EXPECT_FALSE(store.RecordFront(job, point, front));
    point.completed_trials = 3;
    point.hypervolume = -1;
    EXPECT_THROW(store.RecordFront(job, point, front), InvalidArgument);
    point.hypervolume = 0.5;
    EXPECT_THROW(store.RecordFront(unknown, point, front), NotFound);
    EXPECT_TRUE(store.RecordFront(job, point, front));
    EXPECT_EQ(store.LoadSchedulingView(job).recorded_completed_trials, 3);

    // Stopping turns the queued trials STALE; a stopped job takes no trials,
    // does not start again and is no longer active, even when asked for.
    EXPECT_EQ(store.SetJobState(job, v1::JOB_COMPLETED, "done").state(), v1::JOB_COMPLETED);
    EXPECT_EQ(States(store, job), std::vector<v1::TrialState>(5, v1::TRIAL_STALE));
    EXPECT_THROW(store.InsertTrials(job, NewTrials(1)), FailedPrecondition);
    EXPECT_THROW(store.SetJobState(job, v1::JOB_RUNNING, "again"), FailedPrecondition);
    EXPECT_FALSE(Listed(store.ListActiveJobs(std::nullopt), job));
    EXPECT_FALSE(Listed(store.ListActiveJobs(all.watermark, {job}), job));

    // A pending job may fail, with the reason as its error.
    const v1::Job failed = store.SetJobState(other, v1::JOB_FAILED, "bad spec");
    EXPECT_EQ(failed.state(), v1::JOB_FAILED);
    EXPECT_EQ(failed.error(), "bad spec");

    EXPECT_TRUE(store.LoadSchedulingView(unknown).trials.empty());
    EXPECT_TRUE(store.ReapExpiredLeases().reaped.empty());  // nothing was ever leased
}

}  // namespace hilnas::testing
