// The training loop and evaluation. Private to the trainer (LibTorch types).
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "dataset.h"
#include "hilnas/trainer/pipeline.h"
#include "network.h"

namespace hilnas::trainer {

enum class OptimizerKind { kSgd, kAdamW };

struct FitOptions {
    std::string phase = "train";
    int epochs = 1;
    int64_t batch_size = 128;
    OptimizerKind optimizer = OptimizerKind::kAdamW;
    double learning_rate = 2e-3;  // peak of the per-step cosine schedule
    double weight_decay = 1e-4;
    double momentum = 0.9;  // SGD (Nesterov)
    double label_smoothing = 0;
    bool augment = false;
    torch::Device device = torch::kCPU;
    std::vector<torch::Tensor> parameters;  // empty: net->TrainableParameters()
    // More parameter groups, each with its learning-rate factor.
    std::vector<std::pair<std::vector<torch::Tensor>, double>> extra_groups;
    // Extra loss for step `step` of `steps` (sparse VD's KL, DNAS's penalty).
    std::function<torch::Tensor(int64_t step, int64_t steps)> extra_loss;
    std::function<void(int64_t step, int64_t steps)> before_step;
    std::function<void()> after_step;
    bool evaluate = true;  // validation accuracy after each epoch
    double started = 0;    // seconds already spent in the trial (for progress)
};

struct FitReport {
    double loss = 0;
    double val_accuracy = -1;
    // Mean cross-entropy on the validation split after the first epoch (-1
    // when not evaluated): how far ahead a warm start begins.
    double first_val_loss = -1;
    double seconds = 0;
    int64_t images = 0;  // training images processed
};

FitReport Fit(NetworkImpl& net, const Dataset& data, const FitOptions& options,
              const ProgressFn& progress, const std::atomic<bool>* cancel);

// Class predictions [N] (int64, on the CPU) of `net` in eval mode.
torch::Tensor Predict(NetworkImpl& net, const Split& split, torch::Device device,
                      int64_t batch = 1000);
double Accuracy(NetworkImpl& net, const Split& split, torch::Device device);

// Accuracy and mean cross-entropy of `net` in eval mode on `split`.
struct Evaluation {
    double accuracy = 0;
    double loss = 0;
};
Evaluation Evaluate(NetworkImpl& net, const Split& split, torch::Device device,
                    int64_t batch = 1000);

// Runs `batches` training batches through `net` in eval mode to let the
// quantisation observers see real activations.
void Calibrate(NetworkImpl& net, const Split& split, torch::Device device, int batches,
               int64_t batch_size = 256);

double Seconds();  // monotonic

}  // namespace hilnas::trainer
