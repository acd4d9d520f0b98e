// The int8 model artifact: the file format as ReadArtifact checks it
// (artifact::ParseArtifact), and the message inside it through what a board
// agent and the code generator run on an accepted artifact: ValidateArtifact,
// then the host runtime (HostModel), which lowers it exactly as the firmware
// does and runs its kernels.
//
// A mutated file almost never keeps its checksums, so the message is also
// taken on its own (the bytes after a HILNASM1 header, or the whole input),
// re-sealed with SerializeArtifact and validated. Properties: a re-sealed
// artifact of format version 1 parses back; a validated artifact runs
// without a kernel refusing (HostModel::Run throws Internal for a
// validation gap, which this target does not catch).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/firmware/host_model.h"

using namespace hilnas;

namespace {

// Models small enough to run within the fuzzer's time and memory budget.
constexpr int64_t kMaxRunMacs = 2'000'000;
constexpr int64_t kMaxRunArenaBytes = 16 << 20;

void ValidateAndRun(const v1::Int8Model& model) {
    arch::Graph graph;
    if (!fuzz::Accepts([&] { graph = artifact::ValidateArtifact(model); })) return;
    const arch::CostReport cost = arch::ComputeCost(graph);
    if (cost.macs > kMaxRunMacs || cost.arena_bytes > kMaxRunArenaBytes) return;
    firmware::HostModel host(model);
    std::vector<int8_t> input(static_cast<size_t>(host.input_bytes()));
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<int8_t>(i * 37 + 11);
    const std::vector<int8_t> output = host.Run(input);
    fuzz::Require(static_cast<int64_t>(output.size()) == host.output_bytes(),
                  "the host runtime's output is not the model's output size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes = fuzz::AsText(data, size);
    v1::Int8Model parsed;
    if (fuzz::Accepts([&] { parsed = artifact::ParseArtifact(bytes, "fuzz"); })) {
        ValidateAndRun(parsed);
    }

    // The message on its own: after the 12-byte header when there is one.
    std::string_view body = bytes;
    if (bytes.substr(0, 8) == "HILNASM1" && bytes.size() >= 12) body = bytes.substr(12);
    v1::Int8Model model;
    if (!model.ParseFromArray(body.data(), static_cast<int>(body.size()))) return 0;
    const std::string file = artifact::SerializeArtifact(model);
    v1::Int8Model again;
    const bool accepted = fuzz::Accepts([&] { again = artifact::ParseArtifact(file, "sealed"); });
    fuzz::Require(accepted == (model.format_version() == artifact::kArtifactFormatVersion),
                  "a re-sealed artifact does not parse back");
    if (accepted) {
        fuzz::Require(again.sha256() == artifact::ArtifactDigest(again),
                      "a parsed artifact's sha256 is not its digest");
    }
    ValidateAndRun(model);
    return 0;
}
