#include "hilnas/trainer/pipeline.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "dataset.h"
#include "device.h"
#include "dnas.h"
#include "export.h"
#include "fit.h"
#include "hilnas/arch/cost.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/common/errors.h"
#include "network.h"
#include "prune.h"
#include "warm_start.h"

namespace hilnas::trainer {

namespace {

FitOptions BaseFit(const v1::TrainingRecipe& r, torch::Device device) {
    FitOptions f;
    f.optimizer =
        r.optimizer() == v1::TRAIN_OPTIMIZER_SGD ? OptimizerKind::kSgd : OptimizerKind::kAdamW;
    f.learning_rate = r.learning_rate();
    f.weight_decay = r.weight_decay();
    f.momentum = r.momentum();
    f.epochs = r.epochs();
    f.batch_size = r.batch_size();
    f.augment = r.augment();
    f.label_smoothing = r.label_smoothing();
    f.device = device;
    return f;
}

// Sparse VD's or Bayesian compression's options from the candidate's
// pruning settings (0 there: the method's default).
template <typename Options>
Options VariationalOptions(const v1::PruningSettings& pr) {
    Options o;
    o.target_sparsity = pr.target_sparsity();
    if (pr.log_alpha_threshold() != 0) o.log_alpha_threshold = pr.log_alpha_threshold();
    if (pr.kl_weight() > 0) o.kl_weight = pr.kl_weight();
    return o;
}

std::vector<arch::LayerMapping> MappingFromProto(const v1::Morphism& m) {
    std::vector<arch::LayerMapping> out;
    for (const auto& l : m.layers()) {
        arch::LayerMapping a;
        a.child_layer = l.child_layer();
        a.parent_layer = l.parent_layer();
        switch (l.kind()) {
            case v1::MORPHISM_COPY:
            case v1::MORPHISM_KIND_UNSPECIFIED:
                a.kind = arch::MorphismKind::kCopy;
                break;
            case v1::MORPHISM_WIDEN:
                a.kind = arch::MorphismKind::kWiden;
                break;
            case v1::MORPHISM_IDENTITY:
                a.kind = arch::MorphismKind::kIdentity;
                break;
            case v1::MORPHISM_GROW_KERNEL:
                a.kind = arch::MorphismKind::kGrowKernel;
                break;
            default:
                a.kind = arch::MorphismKind::kFresh;
                break;
        }
        a.out_channel_map.assign(l.out_channel_map().begin(), l.out_channel_map().end());
        a.in_channel_map.assign(l.in_channel_map().begin(), l.in_channel_map().end());
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace

double TrialResult::metric(const std::string& name) const {
    for (const auto& [k, v] : metrics) {
        if (k == name) return v;
    }
    throw NotFound("no metric " + name);
}

v1::TrainingRecipe DefaultRecipe(v1::TrainingRecipe r) {
    if (r.optimizer() == v1::TRAIN_OPTIMIZER_UNSPECIFIED)
        r.set_optimizer(v1::TRAIN_OPTIMIZER_ADAMW);
    const bool sgd = r.optimizer() == v1::TRAIN_OPTIMIZER_SGD;
    if (r.learning_rate() <= 0) r.set_learning_rate(sgd ? 0.05 : 2e-3);
    if (r.weight_decay() <= 0) r.set_weight_decay(sgd ? 5e-4 : 1e-4);
    if (r.momentum() <= 0) r.set_momentum(0.9);
    if (r.epochs() <= 0) r.set_epochs(3);
    if (r.batch_size() <= 0) r.set_batch_size(128);
    if (r.seed() == 0) r.set_seed(1);
    return r;
}

TrialResult RunTrial(const TrialSpec& spec, const ProgressFn& progress,
                     const std::atomic<bool>* cancel) {
    const double t0 = Seconds();
    const v1::Candidate& cand = spec.candidate;
    const v1::TrainingRecipe recipe = DefaultRecipe(cand.training());
    const torch::Device device(ResolveDevice(spec.device) == "cuda" ? torch::kCUDA : torch::kCPU);
    if (spec.threads > 0) torch::set_num_threads(spec.threads);
    torch::manual_seed(recipe.seed());

    DatasetOptions dopt;
    dopt.name = spec.dataset.name;
    dopt.path = spec.dataset.path;
    dopt.validation_fraction = spec.dataset.validation_fraction;
    dopt.validation_limit = spec.dataset.validation_limit;
    dopt.test_limit = spec.dataset.test_limit;
    dopt.train_limit = recipe.train_limit();
    const Dataset data = LoadDataset(dopt);

    arch::Model model = arch::ModelFromProto(cand.model());
    const int bits = cand.quantization().weight_bits();
    if (bits != 0 && bits != 8 && bits != 4) {
        throw InvalidArgument("must be 8 or 4", "quantization.weight_bits");
    }
    for (auto& l : model.layers) {
        if (bits == 4 && !l.weight_bits && l.has_weights()) l.weight_bits = 4;
    }
    const arch::Graph graph = arch::Analyze(model);
    if (!(graph.tensors[0] == data.shape)) {
        throw InvalidArgument("input shape does not match " + data.name + "'s images",
                              "model.input");
    }
    if (graph.tensors.back().elements() != data.classes) {
        throw InvalidArgument(
            "the last layer must have " + std::to_string(data.classes) + " outputs, one per class",
            "model.layers");
    }

    FitOptions base = BaseFit(recipe, device);
    Network net(model);
    if (cand.has_morphism() && cand.morphism().layers_size() > 0 &&
        !spec.parent_checkpoint.empty()) {
        WarmStart(*net, ReadCheckpoint(spec.parent_checkpoint), MappingFromProto(cand.morphism()));
    }
    net->to(device);
    std::vector<std::pair<std::string, double>> extra;
    double train_seconds = 0;
    int64_t train_images = 0;
    auto run_fit = [&](NetworkImpl& n, FitOptions f) {
        f.started = Seconds() - t0;
        const FitReport r = Fit(n, data, f, progress, cancel);
        train_seconds += r.seconds;
        train_images += r.images;
        return r;
    };
    // A phase that trains through its own loop (DNAS, sparse VD, Bayesian
    // compression) for f.epochs: its time and images count as training.
    auto timed = [&](FitOptions f, auto&& phase) {
        f.started = Seconds() - t0;
        const double s0 = Seconds();
        auto r = phase(f);
        train_seconds += Seconds() - s0;
        train_images += data.train.size() * f.epochs;
        return r;
    };

    if (cand.dnas().enabled()) {
        const v1::DnasSettings& d = cand.dnas();
        DnasOptions o;
        if (d.channel_groups() > 0) o.channel_groups = d.channel_groups();
        o.max_sram_bytes = d.max_sram_bytes();
        o.max_flash_bytes = d.max_flash_bytes();
        o.max_macs = d.max_macs();
        if (d.penalty_weight() > 0) o.penalty_weight = d.penalty_weight();
        if (d.temperature() > 0) o.temperature = d.temperature();
        if (!(d.shrink() >= 0 && d.shrink() <= 1)) {
            throw InvalidArgument("must be in [0, 1] (0: the max_* budgets alone)", "dnas.shrink");
        }
        o.shrink = d.shrink();
        FitOptions f = base;
        f.epochs = d.epochs() > 0 ? d.epochs() : 1;
        DnasResult r = timed(
            f, [&](const FitOptions& fo) { return RunDnas(net, data, fo, o, progress, cancel); });
        net = r.network;
        net->to(device);
        const arch::CostReport c = arch::ComputeCost(arch::Analyze(r.model));
        extra.emplace_back("dnas_macs", static_cast<double>(c.macs));
        extra.emplace_back("dnas_flash_bytes", static_cast<double>(c.flash_bytes));
        extra.emplace_back("dnas_arena_bytes", static_cast<double>(c.arena_bytes));
        // What it searched under: below the candidate's own figures when shrink is set.
        extra.emplace_back("dnas_budget_arena_bytes",
                           static_cast<double>(r.budgets.max_sram_bytes));
        extra.emplace_back("dnas_budget_flash_bytes",
                           static_cast<double>(r.budgets.max_flash_bytes));
        extra.emplace_back("dnas_budget_macs", static_cast<double>(r.budgets.max_macs));
    }

    if (const FitReport r = run_fit(*net, base); r.first_val_loss >= 0) {
        extra.emplace_back("first_epoch_val_loss", r.first_val_loss);
    }

    const v1::PruningSettings& pr = cand.pruning();
    const bool prune = pr.method() == v1::PRUNING_SPARSE_VD || pr.method() == v1::PRUNING_CHANNEL ||
                       pr.method() == v1::PRUNING_BAYESIAN;
    if (prune) {
        if (!(pr.target_sparsity() >= 0 && pr.target_sparsity() < 1)) {
            throw InvalidArgument("must be in [0, 1)", "pruning.target_sparsity");
        }
        const arch::CostReport before = arch::ComputeCost(arch::Analyze(WithSparsity(*net)));
        extra.emplace_back("float_accuracy_before_pruning", Accuracy(*net, data.test, device));
        extra.emplace_back("params_before_pruning", static_cast<double>(before.params));
        extra.emplace_back("weight_bytes_before_pruning", static_cast<double>(before.weight_bytes));
        extra.emplace_back("nonzero_weight_bytes_before_pruning",
                           static_cast<double>(before.nonzero_weight_bytes));
        extra.emplace_back("sparsity_before_pruning", Sparsity(*net));
        FitOptions f = base;
        f.phase = "prune";
        f.epochs = pr.epochs() > 0 ? pr.epochs() : 1;
        f.learning_rate = base.learning_rate * 0.5;
        if (pr.method() == v1::PRUNING_SPARSE_VD) {
            const auto o = VariationalOptions<SparseVdOptions>(pr);
            timed(f, [&](const FitOptions& fo) {
                return SparseVdPrune(*net, data, fo, o, progress, cancel);
            });
        } else if (pr.method() == v1::PRUNING_BAYESIAN) {
            const auto o = VariationalOptions<BayesianCompressionOptions>(pr);
            BayesianCompressionResult r = timed(f, [&](const FitOptions& fo) {
                return BayesianCompress(*net, data, fo, o, progress, cancel);
            });
            net = r.network;
            net->to(device);
            run_fit(*net, f);  // fine-tune the smaller network, as channel pruning does
            extra.emplace_back("bayesian_channels_removed", r.channels_removed);
            extra.emplace_back("bayesian_channels_past_threshold", r.channels_past_threshold);
            extra.emplace_back("bayesian_params_removed",
                               1.0 - static_cast<double>(arch::ComputeCost(net->graph()).params) /
                                         static_cast<double>(before.params));
        } else {
            const int64_t params_before = before.params;
            net = ChannelPrune(*net, pr.target_sparsity());
            net->to(device);
            run_fit(*net, f);
            extra.emplace_back("channel_pruning_params_removed",
                               1.0 - static_cast<double>(arch::ComputeCost(net->graph()).params) /
                                         static_cast<double>(params_before));
        }
    }

    TrialResult result;
    result.checkpoint = WriteCheckpoint(*net, &model);  // children map into the candidate
    net->FoldBatchNorm();
    const double float_accuracy = Accuracy(*net, data.test, device);
    Calibrate(*net, data.train, device, 16);
    net->set_quant_mode(QuantMode::kFakeQuant);
    if (cand.quantization().qat()) {
        FitOptions f = base;
        f.phase = "qat";
        f.epochs = cand.quantization().qat_epochs() > 0 ? cand.quantization().qat_epochs() : 1;
        f.learning_rate = base.learning_rate * 0.1;
        f.augment = false;
        run_fit(*net, f);
    }
    const double fq_accuracy = Accuracy(*net, data.test, device);
    result.artifact = ExportInt8(*net, spec.producer);
    result.final_model = arch::ModelFromProto(result.artifact.model());
    const double int8_accuracy = HostAccuracy(result.artifact, data.test, spec.eval_threads);
    const arch::CostReport cost = arch::ComputeCost(arch::Analyze(result.final_model));
    auto& m = result.metrics;
    m.emplace_back("float_accuracy", float_accuracy);
    m.emplace_back(catalog::kInt8TestAccuracy, int8_accuracy);
    // The figure the search selects on; without a validation split there is
    // none (the test split never stands in for it).
    if (data.validation.size() > 0) {
        m.emplace_back(catalog::kInt8ValAccuracy,
                       HostAccuracy(result.artifact, data.validation, spec.eval_threads));
    }
    m.emplace_back("fake_quant_accuracy", fq_accuracy);
    m.emplace_back("params", static_cast<double>(cost.params));
    m.emplace_back("weight_bytes", static_cast<double>(cost.weight_bytes));
    m.emplace_back("nonzero_weight_bytes", static_cast<double>(cost.nonzero_weight_bytes));
    m.emplace_back("sparsity", Sparsity(*net));
    m.emplace_back("macs", static_cast<double>(cost.macs));
    m.emplace_back("arena_bytes", static_cast<double>(cost.arena_bytes));
    m.emplace_back("flash_bytes", static_cast<double>(cost.flash_bytes));
    m.emplace_back("working_memory_bytes", static_cast<double>(cost.working_memory_bytes));
    m.emplace_back("train_seconds", train_seconds);
    m.emplace_back("train_images_per_second",
                   train_seconds > 0 ? static_cast<double>(train_images) / train_seconds : 0);
    m.insert(m.end(), extra.begin(), extra.end());
    m.emplace_back("total_seconds", Seconds() - t0);
    return result;
}

std::string MetricsToJson(const TrialResult& result) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (const auto& [k, v] : result.metrics) {
        if (std::isfinite(v) && v == std::round(v) && std::fabs(v) < 9e15) {
            j[k] = static_cast<int64_t>(v);
        } else {
            j[k] = v;
        }
    }
    return j.dump(2) + "\n";
}

}  // namespace hilnas::trainer
