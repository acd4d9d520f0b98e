// The scheduler on a real database: a submitted job starts, gets its first
// batch of trials from the optimiser, and respects its parallelism.
#include <gtest/gtest.h>

#include "hilnas/controller/job_spec.h"
#include "hilnas/controller/scheduler.h"
#include "hilnas/store/migrations.h"
#include "hilnas/store/store.h"
#include "hilnas/testing/pg.h"

namespace hilnas::controller {
namespace {

v1::JobSpec Spec(int parallel) {
    v1::JobSpec spec;
    spec.set_name("sched");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.mutable_search_space()->mutable_blocks()->set_min(1);
    spec.mutable_search_space()->mutable_blocks()->set_max(3);
    spec.mutable_budget()->set_max_trials(10);
    spec.mutable_budget()->set_max_parallel_trials(parallel);
    spec.mutable_optimizer()->set_candidate_pool(100);
    spec.set_seed(3);
    return NormalizeJobSpec(spec);
}

TEST(Scheduler, StartsAJobAndFillsItsParallelTrials) {
    const std::string dsn = testing::FreshDatabase("sched");
    store::Migrate(dsn);
    store::StoreOptions options;
    options.dsn = dsn;
    store::Store store(options);
    const v1::Job job = store.CreateJob("user:0", Spec(3));
    Scheduler scheduler(store, {});
    scheduler.RunOnce();
    EXPECT_EQ(store.GetJob(job.job_id()).state(), v1::JOB_RUNNING);
    auto page = store.ListTrials(job.job_id(), v1::TRIAL_STATE_UNSPECIFIED, 100, "");
    ASSERT_EQ(page.trials.size(), 3u);
    for (const auto& t : page.trials) {
        EXPECT_EQ(t.state(), v1::TRIAL_PENDING);
        EXPECT_TRUE(t.candidate().has_model());
        EXPECT_GT(t.candidate().encoding_size(), 0);
    }
    scheduler.RunOnce();  // idempotent: nothing finished, nothing new
    EXPECT_EQ(store.ListTrials(job.job_id(), v1::TRIAL_STATE_UNSPECIFIED, 100, "").trials.size(),
              3u);
}

}  // namespace
}  // namespace hilnas::controller
