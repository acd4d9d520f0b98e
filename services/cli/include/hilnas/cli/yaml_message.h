// YAML files that hold protobuf messages (a job spec for `hilnas submit`, a
// search space for `hilnas arch sample`): the YAML is read as the message's
// JSON mapping, so field names are the proto's and enum values are their
// names (OBJECTIVE_ERROR, BLOCK_CONV, ...).
#pragma once

#include <string>
#include <string_view>

#include "hilnas/arch/space.h"
#include "hilnas/v1/job.pb.h"

namespace google::protobuf {
class Message;
}

namespace hilnas::cli {

// Parses `yaml` into `out` (cleared first). Throws InvalidArgument naming
// `source` for text that is not YAML or not the message.
void MessageFromYaml(std::string_view yaml, google::protobuf::Message* out,
                     const std::string& source);

// A job spec as `hilnas submit JOB.yaml` reads it, before the controller's
// validation (controller::NormalizeJobSpec).
v1::JobSpec JobSpecFromYaml(std::string_view yaml, const std::string& source);

// A search space file (`hilnas arch sample --space FILE`), in the job spec's
// dialect: either a whole job spec, whose search_space and dataset are read,
// or just the search_space section (an empty file: the default space). Read
// as JobSpecFromYaml reads it, then arch::SpaceFromProto with the shape and
// classes of `dataset_name` (a known dataset; empty: the job spec's dataset,
// else dataset::Options' default). Throws InvalidArgument naming `source` and
// the field as the file spells it: "FILE: search_space.blocks.max: must be
// >= min (3)" in a job spec, "FILE: blocks.max: ..." in a bare section.
arch::SearchSpace SearchSpaceFromYaml(std::string_view yaml, const std::string& source,
                                      const std::string& dataset_name = "");

}  // namespace hilnas::cli
