// The IR's JSON form (arch::ModelFromJson) and what `hilnas arch analyze`
// does with a parsed model: Analyze, the cost model under every memory plan
// and its JSON report. Properties: JSON and protobuf round-trip a parsed
// model exactly, and every memory plan keeps buffers that are live together
// apart and fits them in its arena.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/arch/planner.h"
#include "hilnas/v1/model.pb.h"

namespace {

using namespace hilnas;

int64_t Aligned(int64_t bytes) {
    return (bytes + arch::kArenaAlignment - 1) / arch::kArenaAlignment * arch::kArenaAlignment;
}

int Root(const arch::MemoryPlan& plan, int b) {
    while (plan.buffers[static_cast<size_t>(b)].shares_with >= 0) {
        b = plan.buffers[static_cast<size_t>(b)].shares_with;
    }
    return b;
}

void CheckPlan(const arch::MemoryPlan& plan) {
    const auto& bufs = plan.buffers;
    for (size_t a = 0; a < bufs.size(); ++a) {
        fuzz::Require(bufs[a].offset >= 0 && bufs[a].offset % arch::kArenaAlignment == 0,
                      "a buffer's offset is negative or unaligned");
        fuzz::Require(bufs[a].offset + bufs[a].size <= plan.arena_bytes,
                      "a buffer ends past the arena");
        for (size_t b = a + 1; b < bufs.size(); ++b) {
            if (Root(plan, static_cast<int>(a)) == Root(plan, static_cast<int>(b))) continue;
            const bool live_together =
                bufs[a].first <= bufs[b].last && bufs[b].first <= bufs[a].last;
            const bool apart = bufs[a].offset + Aligned(bufs[a].size) <= bufs[b].offset ||
                               bufs[b].offset + Aligned(bufs[b].size) <= bufs[a].offset;
            fuzz::Require(!live_together || apart, "two buffers live together share bytes");
        }
    }
    fuzz::Require(plan.arena_bytes >= arch::LiveBytesLowerBound(plan),
                  "the arena is smaller than the live bytes' lower bound");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    arch::Model model;
    if (!fuzz::Accepts([&] { model = arch::ModelFromJson(fuzz::AsText(data, size)); })) return 0;

    // The human and the wire form both round-trip whatever parsed.
    const std::string json = arch::ModelToJson(model);
    fuzz::Require(arch::ModelFromJson(json) == model, "ModelToJson does not parse back equal");
    fuzz::Require(arch::ModelFromJson(arch::ModelToJson(model, true)) == model,
                  "pretty ModelToJson does not parse back equal");
    v1::Model proto;
    arch::ModelToProto(model, &proto);
    fuzz::Require(arch::ModelFromProto(proto) == model, "the protobuf form does not round-trip");

    arch::Graph graph;
    if (!fuzz::Accepts([&] { graph = arch::Analyze(model); })) return 0;
    fuzz::Require(graph.num_layers() == static_cast<int>(model.layers.size()) &&
                      graph.tensors.size() == model.layers.size() + 1,
                  "Analyze's graph does not match the model");
    for (const auto strategy : {arch::PlanStrategy::kBest, arch::PlanStrategy::kGreedyBySize,
                                arch::PlanStrategy::kNaive}) {
        const arch::CostReport report = arch::ComputeCost(graph, strategy);
        CheckPlan(report.plan);
        fuzz::Require(report.arena_bytes == report.plan.arena_bytes,
                      "the report's arena is not its plan's");
        (void)arch::CostReportToJson(graph, report, true);
    }
    return 0;
}
