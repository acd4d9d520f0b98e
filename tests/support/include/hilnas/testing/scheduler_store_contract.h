// The contract of store::SchedulerStore (repositories.h), as one set of
// GoogleTest expectations that every implementation must meet: run on the
// PostgreSQL store by scheduler_pgtest and on InMemorySchedulerStore by
// scheduler_test, so the fake the scheduler's unit tests trust stays the store.
#pragma once

#include <functional>
#include <string>

#include "hilnas/store/repositories.h"

namespace hilnas::testing {

// Creates a PENDING job in the store under test; returns its id.
using CreateJobFn = std::function<std::string()>;

// Checks, on jobs it creates with `create_job` (three of them): trials numbered
// after the last and fenced on after_number; the job state machine and STALE
// trials on stop; fronts recorded once per completed-trial count; the
// scheduling view; ListActiveJobs and its watermark.
void ExpectSchedulerStoreContract(store::SchedulerStore& store, const CreateJobFn& create_job);

}  // namespace hilnas::testing
