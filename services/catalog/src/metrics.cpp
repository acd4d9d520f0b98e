#include "hilnas/catalog/metrics.h"

#include <array>

namespace hilnas::catalog {

namespace {

constexpr v1::MetricSource kEvaluated = v1::METRIC_SOURCE_EVALUATED;
constexpr v1::MetricSource kComputed = v1::METRIC_SOURCE_COMPUTED;

constexpr std::array<Metric, 33> kMetrics{{
    // Accuracy: the trainer, on the host (float and fake-quant in LibTorch,
    // int8 on the reference runtime).
    {kInt8ValAccuracy, kEvaluated, "fraction", "int8 model on the validation split (selection)"},
    {kInt8TestAccuracy, kEvaluated, "fraction", "int8 model on the test split (reported only)"},
    {"float_accuracy", kEvaluated, "fraction", "float model on the test split"},
    {"fake_quant_accuracy", kEvaluated, "fraction", "fake-quantised model on the test split"},
    {"float_accuracy_before_pruning", kEvaluated, "fraction",
     "float model on the test split before pruning"},
    {"first_epoch_val_loss", kEvaluated, "nats",
     "float model's mean cross-entropy on the validation split after its first epoch of "
     "training: how far ahead a morphism child's warm start begins"},
    // The final model's cost, from the analytic cost model.
    {"params", kComputed, "count", "parameters of the final model"},
    {"weight_bytes", kComputed, "bytes", "weights stored by the runtime"},
    {"nonzero_weight_bytes", kComputed, "bytes", "bytes of the non-zero weights"},
    {"sparsity", kComputed, "fraction", "zero weights over all weights"},
    {"macs", kComputed, "MACs", "multiply-accumulates of one inference"},
    {"arena_bytes", kComputed, "bytes", "planned tensor arena"},
    {"flash_bytes", kComputed, "bytes", "predicted flash"},
    {"working_memory_bytes", kComputed, "bytes", "largest live set of tensors"},
    {kPredictedSramBytes, kComputed, "bytes", "the board's SRAM as the cost model predicts it"},
    {kPredictedFlashBytes, kComputed, "bytes", "the board's flash as the cost model predicts it"},
    // Before pruning, and what pruning and DNAS did.
    {"params_before_pruning", kComputed, "count", "parameters before pruning"},
    {"weight_bytes_before_pruning", kComputed, "bytes", "weights before pruning"},
    {"nonzero_weight_bytes_before_pruning", kComputed, "bytes", "non-zero weights before pruning"},
    {"sparsity_before_pruning", kComputed, "fraction", "sparsity before pruning"},
    {"channel_pruning_params_removed", kComputed, "fraction",
     "parameters removed by channel pruning"},
    {"bayesian_channels_removed", kComputed, "fraction",
     "channels of the shrinkable layers removed by Bayesian compression"},
    {"bayesian_channels_past_threshold", kComputed, "fraction",
     "channels whose group scale's log alpha passed the threshold (the rest of those removed "
     "made up the target)"},
    {"bayesian_params_removed", kComputed, "fraction",
     "parameters removed by Bayesian compression"},
    {"dnas_macs", kComputed, "MACs", "MACs of the model DNAS chose"},
    {"dnas_flash_bytes", kComputed, "bytes", "flash of the model DNAS chose"},
    {"dnas_arena_bytes", kComputed, "bytes", "arena of the model DNAS chose"},
    {"dnas_budget_arena_bytes", kComputed, "bytes",
     "the arena budget DNAS searched under (0: none)"},
    {"dnas_budget_flash_bytes", kComputed, "bytes",
     "the flash budget DNAS searched under (0: none)"},
    {"dnas_budget_macs", kComputed, "MACs", "the MACs budget DNAS searched under (0: none)"},
    // The trainer's own timings.
    {"train_seconds", kEvaluated, "s", "time spent training (all phases)"},
    {"train_images_per_second", kEvaluated, "images/s", "training throughput"},
    {"total_seconds", kEvaluated, "s", "the whole trial on the trainer"},
}};

}  // namespace

std::span<const Metric> Metrics() { return kMetrics; }

const Metric* FindMetric(std::string_view name) {
    for (const Metric& m : kMetrics) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

}  // namespace hilnas::catalog
