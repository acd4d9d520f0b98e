// One trial's training, end to end: dataset, model, optional DNAS width
// search, training, optional pruning, quantisation (QAT or calibration), the
// int8 artifact and its accuracy on the host int8 runtime. No LibTorch types
// here: the worker loop and the command line use this header.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hilnas/arch/model.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/v1/artifact.pb.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::trainer {

// Reported as training goes: after every epoch of every phase
// ("dnas", "train", "prune", "qat"), and once per phase at the start.
struct Progress {
    std::string phase;
    int epoch = 0;  // 1-based; 0 before the first epoch
    int epochs = 0;
    double loss = 0;           // mean training loss of the epoch
    double val_accuracy = -1;  // on the validation split; -1 when not evaluated
    double seconds = 0;        // since the trial started
};
using ProgressFn = std::function<void(const Progress&)>;

// Thrown out of training when the cancel flag is set (SIGTERM, a STOP lease).
class Cancelled : public std::runtime_error {
  public:
    Cancelled() : std::runtime_error("training cancelled") {}
};

struct DatasetSettings {
    std::string name = dataset::kDefaultDataset;  // fashion-mnist | mnist | cifar10
    std::string path;                             // empty: the Debian package (fashion-mnist)
    double validation_fraction = 0.1;
    int64_t validation_limit = 0;  // 0: the whole split (tests use subsets)
    int64_t test_limit = 0;
};

struct TrialSpec {
    // The architecture and how to train, prune and quantise it. Zero values
    // mean the defaults documented in DefaultRecipe().
    v1::Candidate candidate;
    DatasetSettings dataset;
    std::string device = "cpu";  // cpu | cuda | auto
    int threads = 0;             // CPU threads; 0: LibTorch's default
    // The parent's checkpoint (WriteCheckpoint bytes) when the candidate's
    // morphism names a parent.
    std::string parent_checkpoint;
    std::string producer = "hilnas-trainer";
    int eval_threads = 2;  // threads for the host int8 runtime
};

struct TrialResult {
    arch::Model final_model;  // after DNAS and structured pruning; the artifact's IR
    v1::Int8Model artifact;   // validated; its accuracy is `int8_accuracy`
    std::string checkpoint;   // float weights of final_model, for children's warm starts
    // In a fixed order: float_accuracy, int8_accuracy, int8_val_accuracy,
    // params, weight_bytes, sparsity, train_seconds, ... (see pipeline.cpp).
    std::vector<std::pair<std::string, double>> metrics;
    double metric(const std::string& name) const;  // throws NotFound
};

// The trainer's defaults for zero fields of `recipe` (AdamW, lr 2e-3 peak of a
// cosine schedule, weight decay 1e-4, momentum 0.9, 3 epochs, batch 128, seed 1).
v1::TrainingRecipe DefaultRecipe(v1::TrainingRecipe recipe);

// Runs the trial. Throws InvalidArgument for a bad candidate (not retryable),
// NotFound/Unavailable for a missing dataset, FailedPrecondition when DNAS
// finds no width within the budgets, Cancelled when *cancel becomes true.
TrialResult RunTrial(const TrialSpec& spec, const ProgressFn& progress = {},
                     const std::atomic<bool>* cancel = nullptr);

// metrics as one JSON object {"name": value, ...}.
std::string MetricsToJson(const TrialResult& result);

}  // namespace hilnas::trainer
