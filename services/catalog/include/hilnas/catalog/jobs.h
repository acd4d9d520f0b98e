// Rules of a job record that the controller applies when a spec is submitted
// and the store applies again before it writes the row (a caller of the store
// need not have come through the controller). One copy, here; the objective
// list's rule is catalog::CheckObjectives.
#pragma once

#include <string>

namespace hilnas::catalog {

// How often a trial may be attempted (training or measurement) before it
// fails for good. 0 in a spec means the default.
inline constexpr int kDefaultMaxAttempts = 3;
inline constexpr int kMaxMaxAttempts = 100;

// `requested`, or the default for 0. InvalidArgument on `field` outside
// [0, kMaxMaxAttempts].
int ResolveMaxAttempts(int requested, const std::string& field = "spec.budget.max_attempts");

}  // namespace hilnas::catalog
