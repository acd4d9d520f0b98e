// A search space file as `hilnas arch sample --space FILE` reads it
// (cli::SearchSpaceFromYaml): a job spec, or its search_space section, in the
// job spec's dialect (block_kinds: [BLOCK_CONV], ...), read as `hilnas submit`
// reads it, then arch::SpaceFromProto with the dataset's shape. An accepted
// space samples one candidate with a fixed seed, which must be canonical,
// encode to [0, 1]^d and decode back, and build a model the IR accepts or
// refuses with an InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <random>

#include "fuzz_support.h"
#include "hilnas/arch/space.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/v1/job.pb.h"

using namespace hilnas;

namespace {

void SampleOne(const arch::SearchSpace& space) {
    v1::SearchSpace proto;
    arch::SpaceToProto(space, &proto);
    fuzz::Require(arch::SpaceFromProto(proto, space.input, space.classes) == space,
                  "the space does not round-trip through its protobuf form");

    std::mt19937_64 rng(1);
    const arch::Point point = arch::Sample(space, rng);
    fuzz::Require(arch::Normalize(space, point) == point, "a sampled point is not canonical");
    const std::vector<double> u = arch::Encode(space, point);
    fuzz::Require(static_cast<int>(u.size()) == arch::EncodingSize(space),
                  "the encoding is not EncodingSize long");
    for (const double x : u) fuzz::Require(x >= 0 && x <= 1, "an encoded gene is outside [0, 1]");
    fuzz::Require(arch::Decode(space, u) == point, "Decode(Encode(p)) != p");
    (void)arch::PointToJson(point);
    const arch::Model model = arch::BuildModel(space, point, "fuzz");
    fuzz::Accepts([&] { (void)arch::Analyze(model); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    arch::SearchSpace space;
    if (fuzz::Accepts(
            [&] { space = cli::SearchSpaceFromYaml(fuzz::AsText(data, size), "fuzz"); })) {
        SampleOne(space);
    }
    return 0;
}
