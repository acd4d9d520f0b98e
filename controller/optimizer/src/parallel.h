// Work spread over the machine's cores, for the optimiser's independent
// pieces (GP restarts, candidate blocks). Results never depend on the number
// of threads: each index is one task, and tasks share nothing they write.
#pragma once

#include <cstddef>
#include <functional>

namespace hilnas::optimizer::internal {

// Calls fn(0) ... fn(count - 1), on up to hardware_concurrency() threads (the
// calling one included). An exception from a task is rethrown here, after
// every thread has finished (the first one thrown, by task index).
void ParallelFor(size_t count, const std::function<void(size_t)>& fn);

}  // namespace hilnas::optimizer::internal
