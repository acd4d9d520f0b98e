#include "fit.h"

#include <chrono>
#include <cmath>

namespace hilnas::trainer {

namespace F = torch::nn::functional;

double Seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

FitReport Fit(NetworkImpl& net, const Dataset& data, const FitOptions& o,
              const ProgressFn& progress, const std::atomic<bool>* cancel) {
    const double t0 = Seconds();
    std::vector<torch::Tensor> params =
        o.parameters.empty() ? net.TrainableParameters() : o.parameters;
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (o.optimizer == OptimizerKind::kSgd) {
        opt = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.learning_rate)
                                                              .momentum(o.momentum)
                                                              .nesterov(o.momentum > 0)
                                                              .weight_decay(o.weight_decay));
    } else {
        opt = std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
    }
    std::vector<double> factors{1.0};
    for (const auto& [group, factor] : o.extra_groups) {
        std::unique_ptr<torch::optim::OptimizerOptions> options;
        if (o.optimizer == OptimizerKind::kSgd) {
            options = std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(o.learning_rate * factor)
                    .momentum(o.momentum)
                    .nesterov(o.momentum > 0)
                    .weight_decay(o.weight_decay));
        } else {
            options = std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(o.learning_rate * factor).weight_decay(o.weight_decay));
        }
        opt->add_param_group(torch::optim::OptimizerParamGroup(group, std::move(options)));
        factors.push_back(factor);
    }
    const int64_t n = data.train.size();
    const int64_t batches = (n + o.batch_size - 1) / o.batch_size;
    const int64_t steps = batches * o.epochs;
    FitReport report;
    if (progress) progress(Progress{o.phase, 0, o.epochs, 0, -1, o.started});
    int64_t step = 0;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        net.train();
        const torch::Tensor order = torch::randperm(n, torch::kLong);
        double loss_sum = 0;
        for (int64_t b = 0; b < batches; ++b, ++step) {
            if (cancel != nullptr && cancel->load()) throw Cancelled();
            const int64_t start = b * o.batch_size;
            const torch::Tensor idx = order.narrow(0, start, std::min(o.batch_size, n - start));
            torch::Tensor images = data.train.images.index_select(0, idx);
            if (o.augment) images = Augment(images, data.augment_shift, data.augment_flip);
            const torch::Tensor x = ToReal(images.to(o.device));
            const torch::Tensor y = data.train.labels.index_select(0, idx).to(o.device);
            const double lr =
                0.5 * o.learning_rate *
                (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(steps)));
            for (size_t g = 0; g < opt->param_groups().size(); ++g) {
                opt->param_groups()[g].options().set_lr(lr * factors[g]);
            }
            if (o.before_step) o.before_step(step, steps);
            opt->zero_grad();
            torch::Tensor loss = F::cross_entropy(
                net.forward(x), y, F::CrossEntropyFuncOptions().label_smoothing(o.label_smoothing));
            if (o.extra_loss) loss = loss + o.extra_loss(step, steps).to(loss.device());
            loss.backward();
            opt->step();
            if (o.after_step) o.after_step();
            loss_sum += loss.item<double>();
            report.images += idx.size(0);
        }
        report.loss = loss_sum / static_cast<double>(std::max<int64_t>(batches, 1));
        report.val_accuracy = -1;
        if (o.evaluate && data.validation.size() > 0) {
            const Evaluation e = Evaluate(net, data.validation, o.device);
            report.val_accuracy = e.accuracy;
            if (epoch == 1) report.first_val_loss = e.loss;
        }
        if (progress) {
            progress(Progress{o.phase, epoch, o.epochs, report.loss, report.val_accuracy,
                              o.started + Seconds() - t0});
        }
    }
    report.seconds = Seconds() - t0;
    return report;
}

torch::Tensor Predict(NetworkImpl& net, const Split& split, torch::Device device, int64_t batch) {
    torch::NoGradGuard no_grad;
    const bool was_training = net.is_training();
    net.eval();
    std::vector<torch::Tensor> out;
    for (int64_t s = 0; s < split.size(); s += batch) {
        const int64_t m = std::min(batch, split.size() - s);
        const torch::Tensor x = ToReal(split.images.narrow(0, s, m).to(device));
        out.push_back(net.forward(x).argmax(1).to(torch::kCPU));
    }
    net.train(was_training);
    return out.empty() ? torch::empty({0}, torch::kLong) : torch::cat(out);
}

double Accuracy(NetworkImpl& net, const Split& split, torch::Device device) {
    return Evaluate(net, split, device).accuracy;
}

Evaluation Evaluate(NetworkImpl& net, const Split& split, torch::Device device, int64_t batch) {
    Evaluation e;
    if (split.size() == 0) return e;
    torch::NoGradGuard no_grad;
    const bool was_training = net.is_training();
    net.eval();
    double loss = 0;
    int64_t correct = 0;
    for (int64_t s = 0; s < split.size(); s += batch) {
        const int64_t m = std::min(batch, split.size() - s);
        const torch::Tensor logits = net.forward(ToReal(split.images.narrow(0, s, m).to(device)));
        const torch::Tensor y = split.labels.narrow(0, s, m).to(device);
        loss += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    net.train(was_training);
    e.accuracy = static_cast<double>(correct) / static_cast<double>(split.size());
    e.loss = loss / static_cast<double>(split.size());
    return e;
}

void Calibrate(NetworkImpl& net, const Split& split, torch::Device device, int batches,
               int64_t batch_size) {
    torch::NoGradGuard no_grad;
    const bool was_training = net.is_training();
    const QuantMode mode = net.quant_mode();
    net.eval();
    net.set_quant_mode(QuantMode::kObserve);
    for (int b = 0; b < batches && b * batch_size < split.size(); ++b) {
        const int64_t s = b * batch_size;
        const int64_t m = std::min(batch_size, split.size() - s);
        net.forward(ToReal(split.images.narrow(0, s, m).to(device)));
    }
    net.set_quant_mode(mode);
    net.train(was_training);
}

}  // namespace hilnas::trainer
