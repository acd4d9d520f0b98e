// DNAS width search (MicroNets): each shrinkable layer's width is chosen from
// G channel-group options by a Gumbel-softmax over architecture logits; the
// layer's output channels are masked by the sampled choice. Expected MACs,
// weight bytes and working memory follow the cost model's definitions with
// expected widths, and are penalised against the budgets. The argmax widths
// give the discrete IR, which is then repaired (greedily narrowed) until the
// cost model's exact figures respect every budget. Private to the trainer.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "fit.h"
#include "hilnas/arch/cost.h"
#include "network.h"

namespace hilnas::trainer {

struct DnasOptions {
    int channel_groups = 4;
    int64_t max_sram_bytes = 0;   // cost model arena_bytes; 0: no budget
    int64_t max_flash_bytes = 0;  // cost model flash_bytes
    int64_t max_macs = 0;
    double penalty_weight = 2.0;
    double temperature = 5.0;  // annealed to 0.2 of it over the search
    double arch_learning_rate = 0.05;
    // In (0, 1]: budgets relative to the network searched, each figure at
    // narrowest + shrink x (start - narrowest), so that the search shrinks a
    // candidate already within the max_* budgets (which still cap them).
    // 0: the max_* budgets alone.
    double shrink = 0;
};

struct DnasResult {
    arch::Model model;            // the discrete IR, within the budgets
    Network network{nullptr};     // its weights, sliced from the trained supernet
    std::vector<int> widths;      // per layer; 0 where not searched
    double expected_penalty = 0;  // at the end of the search
    DnasOptions budgets;          // the budgets searched under, shrink resolved
};

// `o` with its shrink turned into budgets for a network whose cost is `start`
// at full width and `narrowest` at the narrowest widths: each budget the
// smaller of its max_* and narrowest + shrink x (start - narrowest), rounded
// down but never below `narrowest`.
DnasOptions ResolveBudgets(const DnasOptions& o, const arch::CostReport& start,
                           const arch::CostReport& narrowest);

// The differentiable costs of `graph` with the expected output channels of the
// searched layers (`expected[i]` a scalar tensor, undefined for fixed layers).
struct ExpectedCost {
    torch::Tensor macs, weight_bytes, working_memory_bytes;
};
ExpectedCost ComputeExpectedCost(const arch::Graph& graph,
                                 const std::vector<torch::Tensor>& expected);

// True when the exact cost model figures of `model` respect the budgets.
bool WithinBudget(const arch::Model& model, const DnasOptions& options);

// Searches widths on `supernet` (trained in place for fit.epochs), then returns
// the discrete network. Throws FailedPrecondition when even the narrowest
// choice breaks a budget.
DnasResult RunDnas(Network supernet, const Dataset& data, FitOptions fit,
                   const DnasOptions& options, const ProgressFn& progress,
                   const std::atomic<bool>* cancel);

}  // namespace hilnas::trainer
