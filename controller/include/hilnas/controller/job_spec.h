// The job spec as the controller accepts it: validated whole, with every
// default applied, before anything is stored.
#pragma once

#include <string>
#include <vector>

#include "hilnas/arch/space.h"
#include "hilnas/v1/job.pb.h"

namespace hilnas::controller {

struct DatasetInfo {
    arch::Shape input;
    int classes = 0;
};

// A dataset's input shape and classes, from services/dataset (the one owner of
// dataset facts). InvalidArgument naming `field` for an unknown name.
DatasetInfo DatasetFor(const std::string& name, const std::string& field = "spec.dataset.name");

// Validates `spec` and returns it with defaults filled in (objectives error +
// flash + sram, mobo, budget 20 trials x 2 parallel, 3 attempts, ...).
// Throws InvalidArgument whose field is the spec path, e.g.
// "spec.search_space.blocks.max: must be >= min (3)".
v1::JobSpec NormalizeJobSpec(const v1::JobSpec& spec);

// The search space of a normalised spec.
arch::SearchSpace SpaceOf(const v1::JobSpec& spec);

// The job's hypervolume reference point, one value per objective, fixed at
// submission so every snapshot of the job's hypervolume is measured on the
// same scale: the spec's reference_point when given, else derived from its
// limits and the search space's bounds (error: max_error or 1; flash and
// SRAM: the limits, which the board's memories cap; MACs: max_macs or the
// largest model of the space; latency: max_latency_ms or that model at 10
// cycles per MAC on the board's clock; energy: max_energy_uj or that
// latency at the board's run power). Objectives are normalised by it (y / r),
// so the hypervolume lies in [0, 1] and never decreases as trials complete.
std::vector<double> ReferencePointOf(const v1::JobSpec& spec);

}  // namespace hilnas::controller
