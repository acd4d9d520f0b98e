// hilnas-bench-trainer: a LeNet-sized model (two conv layers and a dense head)
// on Fashion-MNIST, on the CPU (and on CUDA when present, for the speed-up).
// Prints int8 test accuracy (host runtime), its gap to float, wall time,
// images/s, and what channel pruning, Bayesian compression and sparse VD save
// against the baseline trained in the same run.
//
//   hilnas-bench-trainer [--epochs 6] [--threads 2] [--prune-target 0.4]
//                        [--methods channel,bayesian,sparse_vd] [--prune-epochs 2]
//                        [--kl-weight W] [--train-limit N] [--skip-pruning]
#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

#include "hilnas/arch/model.h"
#include "hilnas/trainer/pipeline.h"

namespace {

using hilnas::trainer::RunTrial;
using hilnas::trainer::TrialResult;
using hilnas::trainer::TrialSpec;

const char* kLeNet = R"({"name": "lenet", "input": {"shape": [28, 28, 1]}, "layers": [
    {"op": "conv2d", "filters": 16, "kernel": [5, 5], "padding": "valid", "activation": "relu"},
    {"op": "max_pool", "pool": [2, 2]},
    {"op": "conv2d", "filters": 32, "kernel": [5, 5], "padding": "valid", "activation": "relu"},
    {"op": "max_pool", "pool": [2, 2]},
    {"op": "flatten"},
    {"op": "dense", "units": 64, "activation": "relu"},
    {"op": "dense", "units": 10}]})";

void Print(const char* label, const TrialResult& r) {
    std::printf(
        "%-22s int8 %.4f  float %.4f  gap %+.2f pt  weight_bytes %7.0f  nonzero_bytes %7.0f  "
        "sparsity %.3f  train %.1f s  %.0f img/s  total %.1f s\n",
        label, r.metric("int8_accuracy"), r.metric("float_accuracy"),
        100 * (r.metric("int8_accuracy") - r.metric("float_accuracy")), r.metric("weight_bytes"),
        r.metric("nonzero_weight_bytes"), r.metric("sparsity"), r.metric("train_seconds"),
        r.metric("train_images_per_second"), r.metric("total_seconds"));
    std::fflush(stdout);
}

// The issue's goal for structured pruning: 60% fewer weight bytes than the
// dense baseline for at most 1.5 points of int8 test accuracy.
void PrintStructured(const char* name, double target, const TrialResult& base,
                     const TrialResult& r) {
    const double fewer = 1.0 - r.metric("weight_bytes") / base.metric("weight_bytes");
    const double cost = 100 * (base.metric("int8_accuracy") - r.metric("int8_accuracy"));
    std::printf(
        "%s (target %.0f%% of channels): weight bytes %.0f -> %.0f = %.1f%% fewer (%.2fx "
        "smaller), int8 accuracy %.4f -> %.4f = cost %.2f points; goal (>= 60%% fewer for <= "
        "1.5 points): %s\n",
        name, 100 * target, base.metric("weight_bytes"), r.metric("weight_bytes"), 100 * fewer,
        base.metric("weight_bytes") / r.metric("weight_bytes"), base.metric("int8_accuracy"),
        r.metric("int8_accuracy"), cost, fewer >= 0.6 && cost <= 1.5 ? "met" : "NOT met");
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    int epochs = 6, threads = 2;
    double prune_target = 0.4, kl_weight = 0;
    int prune_epochs = 2, train_limit = 0;
    std::string methods = "channel,bayesian,sparse_vd";
    bool pruning = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--epochs" && i + 1 < argc) {
            epochs = std::atoi(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "--prune-target" && i + 1 < argc) {
            prune_target = std::atof(argv[++i]);
        } else if (a == "--prune-epochs" && i + 1 < argc) {
            prune_epochs = std::atoi(argv[++i]);
        } else if (a == "--kl-weight" && i + 1 < argc) {
            kl_weight = std::atof(argv[++i]);
        } else if (a == "--train-limit" && i + 1 < argc) {
            train_limit = std::atoi(argv[++i]);
        } else if (a == "--methods" && i + 1 < argc) {
            methods = argv[++i];
        } else if (a == "--skip-pruning") {
            pruning = false;
        } else {
            std::fprintf(stderr,
                         "usage: %s [--epochs N] [--threads N] [--prune-target F] [--methods "
                         "channel,bayesian,sparse_vd] [--prune-epochs N] [--kl-weight W "
                         "(Bayesian; 0: its default)] [--train-limit N] [--skip-pruning]\n",
                         argv[0]);
            return 2;
        }
    }
    TrialSpec spec;
    hilnas::arch::ModelToProto(hilnas::arch::ModelFromJson(kLeNet), spec.candidate.mutable_model());
    auto* t = spec.candidate.mutable_training();
    t->set_epochs(epochs);
    t->set_batch_size(128);
    t->set_learning_rate(3e-3);
    t->set_seed(1);
    t->set_train_limit(train_limit);  // 0: all 54000
    spec.candidate.mutable_quantization()->set_qat(true);
    spec.candidate.mutable_quantization()->set_qat_epochs(1);
    spec.threads = threads;
    spec.eval_threads = threads;
    spec.device = "cpu";
    std::printf(
        "hilnas-bench-trainer: LeNet (conv16 5x5, pool, conv32 5x5, pool, dense64, dense10; VALID) "
        "on\n"
        "Fashion-MNIST (%d train / 6000 validation / 10000 test), %d epochs + 1 QAT epoch,\n"
        "AdamW 3e-3 cosine, batch 128, %d CPU threads; int8 accuracy from the host runtime.\n",
        train_limit > 0 ? train_limit : 54000, epochs, threads);
    const TrialResult base = RunTrial(spec);
    Print("baseline (cpu)", base);
    std::printf("int8 - float gap: %+.2f points (goal: within 1)\n",
                100 * (base.metric("int8_accuracy") - base.metric("float_accuracy")));

    const auto wanted = [&](const std::string& m) {
        std::stringstream list(methods);
        std::string item;
        while (std::getline(list, item, ',')) {
            if (item == m) return true;
        }
        return false;
    };
    if (pruning) {
        // Pruning starts from the baseline's float weights (a warm start
        // through an all-COPY morphism), trains one more epoch, then prunes.
        TrialSpec warm = spec;
        warm.parent_checkpoint = base.checkpoint;
        warm.candidate.mutable_training()->set_epochs(1);
        warm.candidate.mutable_training()->set_learning_rate(1e-3);
        for (int i : {0, 2, 5, 6}) {
            auto* l = warm.candidate.mutable_morphism()->add_layers();
            l->set_child_layer(i);
            l->set_parent_layer(i);
            l->set_kind(hilnas::v1::MORPHISM_COPY);
        }
        if (wanted("channel")) {
            TrialSpec ch = warm;
            ch.candidate.mutable_pruning()->set_method(hilnas::v1::PRUNING_CHANNEL);
            ch.candidate.mutable_pruning()->set_target_sparsity(prune_target);
            ch.candidate.mutable_pruning()->set_epochs(prune_epochs);
            const TrialResult c = RunTrial(ch);
            Print("channel pruning", c);
            PrintStructured("channel pruning", prune_target, base, c);
        }
        if (wanted("bayesian")) {
            // The same budget of epochs: prune_epochs with the group scales,
            // then prune_epochs of fine-tuning the smaller network.
            TrialSpec bc = warm;
            bc.candidate.mutable_pruning()->set_method(hilnas::v1::PRUNING_BAYESIAN);
            bc.candidate.mutable_pruning()->set_target_sparsity(prune_target);
            bc.candidate.mutable_pruning()->set_epochs(prune_epochs);
            bc.candidate.mutable_pruning()->set_kl_weight(kl_weight);
            const TrialResult b = RunTrial(bc);
            Print("Bayesian compression", b);
            std::printf(
                "Bayesian compression: %.1f%% of the channels removed, %.1f%% by the prior's "
                "threshold alone (log alpha > 3), the rest by the target\n",
                100 * b.metric("bayesian_channels_removed"),
                100 * b.metric("bayesian_channels_past_threshold"));
            PrintStructured("Bayesian compression", prune_target, base, b);
        }
        if (wanted("sparse_vd")) {
            TrialSpec vd = warm;
            vd.candidate.mutable_pruning()->set_method(hilnas::v1::PRUNING_SPARSE_VD);
            vd.candidate.mutable_pruning()->set_target_sparsity(0.8);
            vd.candidate.mutable_pruning()->set_epochs(prune_epochs);
            const TrialResult v = RunTrial(vd);
            Print("sparse VD", v);
            std::printf(
                "sparse VD: non-zero weight bytes %.0f -> %.0f = %.2fx smaller; stored weight "
                "bytes (sparse where that is smaller) %.0f -> %.0f = %.2fx smaller; int8 "
                "accuracy cost %.2f points\n",
                base.metric("nonzero_weight_bytes"), v.metric("nonzero_weight_bytes"),
                base.metric("nonzero_weight_bytes") / v.metric("nonzero_weight_bytes"),
                base.metric("weight_bytes"), v.metric("weight_bytes"),
                base.metric("weight_bytes") / v.metric("weight_bytes"),
                100 * (base.metric("int8_accuracy") - v.metric("int8_accuracy")));
        }
    }

    if (torch::cuda::is_available()) {
        TrialSpec cuda = spec;
        cuda.device = "cuda";
        const TrialResult g = RunTrial(cuda);
        Print("baseline (cuda)", g);
        std::printf("CUDA speed-up of training: %.2fx\n",
                    base.metric("train_seconds") / g.metric("train_seconds"));
    } else {
        std::printf(
            "CUDA: not available on this machine (torch::cuda::is_available() is false); "
            "CPU figures only\n");
    }
    return 0;
}
