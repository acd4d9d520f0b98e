#include "hilnas/arch/cost.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "hilnas/arch/flash.h"

namespace hilnas::arch {

namespace {

// Static RAM of the harness and board support outside the arena and the input
// copy (the command buffer, 128 held lap times, clock and counters: .data +
// .bss - arena - input = 2,096 B on qemu-netduinoplus2), and the stack that
// inference reaches (painted-stack high-water marks of 500-600 B measured by
// the board agent under QEMU).
constexpr int64_t kRuntimeRamBytes = 2096;
constexpr int64_t kStackBytes = 600;
}  // namespace

WeightLayout WeightLayoutOf(const Graph& g, int layer) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    const Shape& x = g.input_of(layer);
    switch (l.op) {
        case Op::kConv2d:
            return {l.filters, int64_t{l.kernel[0]} * l.kernel[1] * x.c, l.bits()};
        case Op::kDepthwiseConv2d:
            return {1, int64_t{l.kernel[0]} * l.kernel[1] * x.c * l.depth_multiplier, l.bits()};
        case Op::kDense:
            return {l.units, x.elements(), l.bits()};
        default:
            return {};
    }
}

int64_t StoredWeightBytes(const Graph& g, int layer) {
    return IsSparseKernel(KernelOf(g, layer)) ? SparseWeightBytes(g, layer)
                                              : WeightLayoutOf(g, layer).bytes();
}

LayerCost ComputeLayerCost(const Graph& g, int layer, const ScratchFn& scratch) {
    const Layer& l = g.model.layers[static_cast<size_t>(layer)];
    const Shape& x = g.input_of(layer);
    const Shape& y = g.output(layer);
    LayerCost c;
    int64_t weights = 0;
    int64_t out_channels = 0;
    switch (l.op) {
        case Op::kConv2d: {
            const int64_t row = int64_t{l.kernel[0]} * l.kernel[1] * x.c;
            weights = row * l.filters;
            out_channels = l.filters;
            c.macs = int64_t{y.h} * y.w * l.filters * row;
            break;
        }
        case Op::kDepthwiseConv2d: {
            out_channels = int64_t{x.c} * l.depth_multiplier;
            weights = int64_t{l.kernel[0]} * l.kernel[1] * out_channels;
            c.macs = int64_t{y.h} * y.w * out_channels * l.kernel[0] * l.kernel[1];
            break;
        }
        case Op::kDense: {
            const int64_t in = x.elements();
            weights = in * l.units;
            out_channels = l.units;
            c.macs = in * l.units;
            break;
        }
        default:
            break;
    }
    c.weight_bytes = StoredWeightBytes(g, layer);
    c.params = weights + out_channels;
    const int64_t per_channel = out_channels * (4 + 4 + 4);  // bias, multiplier, shift
    if (l.has_weights()) c.weight_array_bytes = (c.weight_bytes + 3) / 4 * 4 + per_channel;
    c.weight_bytes += per_channel;
    if (l.has_weights()) {
        // The exact count when the model carries it, else the fraction's.
        const double keep = 1.0 - l.sparsity.value_or(0.0);
        const int64_t nonzero = l.nonzero_weights.value_or(
            static_cast<int64_t>(std::ceil(static_cast<double>(weights) * keep)));
        c.nonzero_weight_bytes = (l.bits() == 4 ? (nonzero + 1) / 2 : nonzero) + per_channel;
    }
    for (int t : g.inputs[static_cast<size_t>(layer)]) {
        c.working_memory_bytes += g.tensors[static_cast<size_t>(t)].elements();
    }
    c.working_memory_bytes += y.elements();
    c.scratch_bytes = scratch ? scratch(g, layer, KernelOf(g, layer)) : 0;
    return c;
}

CostReport ComputeCost(const Graph& g, PlanStrategy strategy, const ScratchFn& scratch,
                       std::string_view board) {
    CostReport r;
    for (int i = 0; i < g.num_layers(); ++i) {
        LayerCost c = ComputeLayerCost(g, i, scratch);
        r.params += c.params;
        r.macs += c.macs;
        r.weight_bytes += c.weight_bytes;
        r.nonzero_weight_bytes += c.nonzero_weight_bytes;
        r.working_memory_bytes = std::max(r.working_memory_bytes, c.working_memory_bytes);
        r.layers.push_back(c);
    }
    r.plan = PlanMemory(g, strategy, scratch);
    r.arena_bytes = r.plan.arena_bytes;
    for (int i = 0; i < g.num_layers(); ++i) {  // the scratch of the kernel the plan runs
        const int s = r.plan.scratch_buffer[static_cast<size_t>(i)];
        r.layers[static_cast<size_t>(i)].scratch_bytes =
            s < 0 ? 0 : r.plan.buffers[static_cast<size_t>(s)].size;
    }
    // The firmware's flash from the board's calibration (flash.h), with the
    // kernels of the plan the code generator uses; what is not the weights
    // themselves is code, tables and alignment.
    const std::vector<Kernel> kernels = strategy == PlanStrategy::kBest
                                            ? r.plan.kernels
                                            : PlanMemory(g, PlanStrategy::kBest, scratch).kernels;
    r.flash_bytes = PredictFlash(g, kernels, FindFlashCalibration(board)).total_bytes;
    r.code_bytes = r.flash_bytes - r.weight_bytes;
    r.runtime_ram_bytes = kRuntimeRamBytes + g.tensors.front().elements();
    r.stack_bytes_estimate = kStackBytes;
    r.sram_bytes = r.arena_bytes + r.runtime_ram_bytes + r.stack_bytes_estimate;
    return r;
}

std::string CostReportToJson(const Graph& g, const CostReport& r, bool with_layers) {
    nlohmann::ordered_json j;
    j["model"] = g.model.name;
    j["params"] = r.params;
    j["macs"] = r.macs;
    j["weight_bytes"] = r.weight_bytes;
    j["nonzero_weight_bytes"] = r.nonzero_weight_bytes;
    j["working_memory_bytes"] = r.working_memory_bytes;
    j["arena_bytes"] = r.arena_bytes;
    j["arena_plan"] = std::string(StrategyName(r.plan.strategy)) + ":" + r.plan.order;
    j["code_bytes_estimate"] = r.code_bytes;
    j["flash_bytes"] = r.flash_bytes;
    j["runtime_ram_bytes"] = r.runtime_ram_bytes;
    j["stack_bytes_estimate"] = r.stack_bytes_estimate;
    j["sram_bytes"] = r.sram_bytes;
    if (with_layers) {
        auto rows = nlohmann::ordered_json::array();
        for (int i = 0; i < g.num_layers(); ++i) {
            const Layer& l = g.model.layers[static_cast<size_t>(i)];
            const LayerCost& c = r.layers[static_cast<size_t>(i)];
            const Shape& y = g.output(i);
            nlohmann::ordered_json row;
            row["index"] = i;
            row["id"] = l.id;
            row["op"] = std::string(OpName(l.op));
            row["kernel"] =
                KernelFunction(r.plan.kernels[static_cast<size_t>(i)]);  // "" for a view
            row["output_shape"] = {y.h, y.w, y.c};
            row["params"] = c.params;
            row["macs"] = c.macs;
            row["weight_bytes"] = c.weight_bytes;
            row["working_memory_bytes"] = c.working_memory_bytes;
            row["scratch_bytes"] = c.scratch_bytes;
            row["output_offset"] = r.plan.tensor_offset(i + 1);
            rows.push_back(std::move(row));
        }
        j["layers"] = std::move(rows);
    }
    return j.dump();
}

}  // namespace hilnas::arch
