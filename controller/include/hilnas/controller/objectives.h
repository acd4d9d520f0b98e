// Objective values from what trainers and agents report. All minimised.
//   error         1 - int8 accuracy on the validation split (the trainer's host-runtime
//                 figure); test accuracy is stored as a metric, never optimised
//   flash_bytes   cost model (weights + code estimate) until measured; the ELF's
//                 .text + .rodata + .data after
//   sram_bytes    cost model (arena + runtime RAM + stack estimate) until measured;
//                 .data + .bss (arena included) + the stack high-water mark after
//   macs          cost model, exact
//   latency_ms    measured (or emulated) per inference
//   energy_uj     measured with a meter, else estimated as P(board) x latency
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hilnas/arch/flash.h"
#include "hilnas/v1/artifact.pb.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::controller {

// After training: error from the metrics (int8_val_accuracy is required:
// InvalidArgument "metrics" without it), the cost model's figures for the
// artifact's IR (after DNAS and pruning), and the model size counted in the
// artifact's weights.
// `board`: the job's board type (the flash figure is for its firmware).
std::vector<v1::ObjectiveValue> TrainingObjectives(
    const std::vector<v1::Metric>& metrics, const v1::Int8Model& artifact,
    std::string_view board = arch::kDefaultFlashBoard);

// After measurement: latency, energy, flash and SRAM as the board reported them.
// Energy is estimated from the measurement's board type when no meter measured it.
std::vector<v1::ObjectiveValue> MeasurementObjectives(const v1::Measurement& measurement);

// The first limit of `spec.constraints` that `objectives` breach, as the
// trial's reason: "latency_ms 12.5 exceeds spec.constraints.max_latency_ms
// (10)"; empty when none is. Only the objectives present are checked, so a
// trained trial is judged on its error (and the cost model's figures), a
// measured one on what the board measured.
std::string BreachedLimit(const v1::JobSpec& spec,
                          const std::vector<v1::ObjectiveValue>& objectives);

// The spec's measured limits as the optimiser's constraints, in the spec's
// fixed order (error, latency, energy, SRAM, flash; those set): value / limit
// - 1, which holds when <= 0; NaN where the trial has no such figure yet.
// MACs are left out: the search space never proposes a candidate over
// max_macs (the limit is checked exactly before training).
std::vector<double> LimitConstraints(
    const v1::JobSpec& spec,
    const google::protobuf::RepeatedPtrField<v1::ObjectiveValue>& objectives);

// The cost model's objectives for a model, for candidates before training.
// `board`: the job's board type, whose firmware the flash figure is for.
std::vector<v1::ObjectiveValue> ComputedObjectives(
    const v1::Model& model, std::string_view board = arch::kDefaultFlashBoard);

// The cost model's predictions of what a board agent measures, kept beside the
// measurement (metrics predicted_sram_bytes and predicted_flash_bytes, source
// computed) so v_prediction_error can compare them.
std::vector<v1::Metric> PredictionMetrics(const v1::Model& model,
                                          std::string_view board = arch::kDefaultFlashBoard);

}  // namespace hilnas::controller
