// A small job for the scheduler's tests (scheduler_test, scheduler_pgtest):
// error and flash, one to three blocks, a small candidate pool, seeded.
// Header-only: it needs the controller, which only those tests link.
#pragma once

#include "hilnas/controller/job_spec.h"
#include "hilnas/v1/job.pb.h"

namespace hilnas::testing {

// Normalised (every default applied), as the controller stores a submission.
inline v1::JobSpec SchedulerSpec(int parallel, int max_trials = 10, bool measure = true) {
    v1::JobSpec spec;
    spec.set_name("sched");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.mutable_search_space()->mutable_blocks()->set_min(1);
    spec.mutable_search_space()->mutable_blocks()->set_max(3);
    spec.mutable_budget()->set_max_trials(max_trials);
    spec.mutable_budget()->set_max_parallel_trials(parallel);
    spec.mutable_optimizer()->set_candidate_pool(100);
    spec.mutable_measurement()->set_skip(!measure);
    spec.set_seed(3);
    return controller::NormalizeJobSpec(spec);
}

}  // namespace hilnas::testing
