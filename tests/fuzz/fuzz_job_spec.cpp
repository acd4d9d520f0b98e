// A job spec on its way in: the YAML that `hilnas submit JOB.yaml` reads
// (cli::JobSpecFromYaml), then the controller's validation
// (controller::NormalizeJobSpec) and what it derives from an accepted spec.
// Properties: an accepted spec normalises to itself, its search space parses
// and its reference point has one positive value per objective.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <google/protobuf/util/message_differencer.h>

#include "fuzz_support.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/controller/job_spec.h"

using namespace hilnas;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    v1::JobSpec spec;
    if (!fuzz::Accepts([&] { spec = cli::JobSpecFromYaml(fuzz::AsText(data, size), "fuzz"); })) {
        return 0;
    }
    v1::JobSpec normal;
    if (!fuzz::Accepts([&] { normal = controller::NormalizeJobSpec(spec); })) return 0;

    const v1::JobSpec again = controller::NormalizeJobSpec(normal);
    fuzz::Require(google::protobuf::util::MessageDifferencer::Equals(again, normal),
                  "NormalizeJobSpec is not idempotent");
    (void)controller::SpaceOf(normal);
    const std::vector<double> ref = controller::ReferencePointOf(normal);
    fuzz::Require(static_cast<int>(ref.size()) == normal.objectives_size(),
                  "the reference point has not one value per objective");
    for (const double r : ref) {
        fuzz::Require(std::isfinite(r) && r > 0, "a reference value is not finite and positive");
    }
    return 0;
}
