// YAML files that hold protobuf messages (a job spec for `hilnas submit`):
// the YAML is read as the message's JSON mapping, so field names are the
// proto's and enum values are their names (OBJECTIVE_ERROR, BLOCK_CONV, ...).
#pragma once

#include <string>
#include <string_view>

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

}  // namespace hilnas::cli
