// From an optimiser's point to the candidate a trainer trains.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hilnas/arch/space.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::controller {

// The candidate for `point` of the job's space: its IR, a training recipe from
// the point's genes over the spec's defaults, pruning, QAT at the point's bit
// widths, DNAS budgets (the shrink gene under the job's limits), the
// encoding. With a morphism, the mapping of every layer to `parent_trial_id`'s.
v1::Candidate MakeCandidate(const v1::JobSpec& spec, const arch::SearchSpace& space,
                            const arch::Point& point, const std::string& name,
                            const std::optional<arch::Morphed>& morphism = std::nullopt,
                            const std::string& parent_trial_id = {});

void MappingToProto(const std::vector<arch::LayerMapping>& layers, const std::string& parent,
                    v1::Morphism* out);

}  // namespace hilnas::controller
