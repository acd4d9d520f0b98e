// The runtime's static memory plan: an offset in one arena for every
// activation tensor and every kernel's scratch buffer, respecting lifetimes
// in execution order. The code generator lays out the arena with this plan,
// so the arena the cost model predicts is the arena the firmware has.
//
// Lifetimes, in layer steps: the model input lives from step 0, layer i's
// output from step i, each until the last layer that reads it (the model
// output until the end); layer i's scratch lives at step i only. Two buffers
// whose lifetimes meet never share bytes, with three deliberate exceptions:
//  - flatten is a view: its output is its input's bytes (NHWC is already flat);
//  - in place (kBest only): an element-wise add writes over the input whose
//    last reader it is. The runtime's add reads element k of both inputs
//    before writing element k, so this is exact;
//  - in place (kBest only): a layer with an InPlaceKernel (a depthwise or a
//    stride-1 1x1 convolution) writes over its input when it is the input's
//    last reader, through that kernel: the depthwise one (TinyEngine's) keeps
//    one padded input channel in scratch, the 1x1 one two input pixels. The
//    two tensors share one buffer of the larger's size. The plan's `kernels`
//    then names the in-place kernel for the layer, and the code generator
//    calls it.
// kBest keeps a layer in place only where that makes the arena smaller than
// the ordinary kernel would.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hilnas/arch/kernels.h"
#include "hilnas/arch/model.h"

namespace hilnas::arch {

// Offsets and sizes are multiples of this (word access in the kernels).
inline constexpr int64_t kArenaAlignment = 4;

// Bytes of scratch `kernel` asks for when it runs `layer` (its *_get_buffer_size()).
using ScratchFn = std::function<int64_t(const Graph& graph, int layer, Kernel kernel)>;
// The runtime's scratch sizes (firmware/runtime's *_get_buffer_size()).
int64_t RuntimeScratchBytes(const Graph& graph, int layer, Kernel kernel);

enum class PlanStrategy {
    kNaive,         // every buffer its own bytes: the sum, the baseline
    kGreedyBySize,  // TFLM's greedy planner: largest first, lowest offset that fits
    kBest,          // in place where it pays, and the best of several placement orders
};
std::string_view StrategyName(PlanStrategy strategy);

struct PlannedBuffer {
    enum class Kind { kTensor, kScratch };
    Kind kind = Kind::kTensor;
    int index = 0;     // tensor number, or the layer for scratch
    int64_t size = 0;  // bytes, before alignment
    int first = 0;     // first and last step it is live
    int last = 0;
    int64_t offset = 0;
    int shares_with = -1;  // another buffer (index into buffers) whose bytes this one reuses
};

struct MemoryPlan {
    PlanStrategy strategy = PlanStrategy::kNaive;
    std::string order;  // the placement order that won (kBest)
    int64_t arena_bytes = 0;
    std::vector<PlannedBuffer> buffers;
    std::vector<int> tensor_buffer;   // per tensor: its index in buffers
    std::vector<int> scratch_buffer;  // per layer: its scratch's index in buffers, or -1
    std::vector<Kernel> kernels;      // per layer: the kernel it runs under this plan

    int64_t tensor_offset(int tensor) const {
        return buffers[static_cast<size_t>(tensor_buffer[static_cast<size_t>(tensor)])].offset;
    }
};

// in_place_layers = false keeps kBest from the in-place layer kernels (in-place
// adds stay): the ordinary kernels, for the kernel benchmark's comparison.
MemoryPlan PlanMemory(const Graph& graph, PlanStrategy strategy,
                      const ScratchFn& scratch = RuntimeScratchBytes, bool in_place_layers = true);

// The largest sum of live buffer bytes at any step (shared bytes counted
// once): no plan of these buffers can be smaller.
int64_t LiveBytesLowerBound(const MemoryPlan& plan);

}  // namespace hilnas::arch
