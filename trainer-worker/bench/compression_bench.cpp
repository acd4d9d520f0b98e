// hilnas-bench-compression (issue #11): for a fixed set of Fashion-MNIST
// candidates, what each compression method buys on the emulated board, side by
// side: dense, sparse VD with sparse weight storage, magnitude channel pruning
// and Bayesian compression (group priors on channel scales).
//
// Each candidate is trained once (the dense baseline's first epochs); every
// row then continues from those float weights (an all-COPY morphism) for the
// same number of further epochs: the dense row trains on, the others train one
// epoch and prune in the rest. Each row's int8 artifact is measured by the
// board agent's own Measurer on the emulated STM32F405 (QEMU): latency from
// the instruction count, flash and SRAM from the ELF and the painted stack,
// outputs checked against the host runtime. Accuracy is the int8 test
// accuracy (host runtime); ratios are against the dense row of the same run.
//
// The channel methods run at each of --targets (fractions of each layer's
// channels removed at least; removing a fraction f of two consecutive layers'
// channels removes about 1 - (1 - f)^2 of the weights between them).
//
//   hilnas-bench-compression [--epochs 3] [--threads 2] [--targets 0.4,0.5]
//       [--vd-target 0.8] [--only lenet|cnn3]
#include <torch/torch.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "hilnas/agent/board.h"
#include "hilnas/agent/inventory.h"
#include "hilnas/agent/measure.h"
#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/trainer/pipeline.h"

namespace {

using namespace hilnas;
using trainer::RunTrial;
using trainer::TrialResult;
using trainer::TrialSpec;

struct Candidate {
    const char* name;
    const char* json;
};

const Candidate kCandidates[] = {
    {"lenet", R"({"name": "lenet", "input": {"shape": [28, 28, 1]}, "layers": [
    {"op": "conv2d", "filters": 16, "kernel": [5, 5], "padding": "valid", "activation": "relu"},
    {"op": "max_pool", "pool": [2, 2]},
    {"op": "conv2d", "filters": 32, "kernel": [5, 5], "padding": "valid", "activation": "relu"},
    {"op": "max_pool", "pool": [2, 2]},
    {"op": "flatten"},
    {"op": "dense", "units": 64, "activation": "relu"},
    {"op": "dense", "units": 10}]})"},
    {"cnn3", R"({"name": "cnn3", "input": {"shape": [28, 28, 1]}, "layers": [
    {"op": "conv2d", "filters": 16, "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "max_pool", "pool": 2},
    {"op": "conv2d", "filters": 32, "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "max_pool", "pool": 2},
    {"op": "conv2d", "filters": 48, "kernel": 3, "padding": "same", "activation": "relu"},
    {"op": "global_avg_pool"},
    {"op": "dense", "units": 10}]})"},
};

struct Row {
    std::string method;
    double accuracy = 0;
    double weight_bytes = 0;
    double dense_stored_bytes = 0;  // the same weights stored dense
    int64_t flash = 0;
    int64_t sram = 0;
    double latency_ms = 0;
    uint64_t cycles = 0;
    bool outputs_match = false;
};

// The final model's weight bytes were every layer stored dense.
double DenseStoredBytes(const arch::Model& model) {
    arch::Model dense = model;
    for (arch::Layer& l : dense.layers) l.nonzero_weights.reset();
    return static_cast<double>(arch::ComputeCost(arch::Analyze(dense)).weight_bytes);
}

}  // namespace

int main(int argc, char** argv) {
    int epochs = 3, threads = 2;
    std::vector<double> targets = {0.4, 0.5};
    double vd_target = 0.8;
    std::string only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--epochs" && i + 1 < argc) {
            epochs = std::atoi(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "--targets" && i + 1 < argc) {
            targets.clear();
            std::stringstream list(argv[++i]);
            std::string item;
            while (std::getline(list, item, ',')) targets.push_back(std::atof(item.c_str()));
        } else if (a == "--vd-target" && i + 1 < argc) {
            vd_target = std::atof(argv[++i]);
        } else if (a == "--only" && i + 1 < argc) {
            only = argv[++i];
        } else {
            std::fprintf(stderr,
                         "usage: %s [--epochs N] [--threads N] [--targets F,F] [--vd-target F] "
                         "[--only lenet|cnn3]\n",
                         argv[0]);
            return 2;
        }
    }
    char tmpl[] = "/tmp/hilnas-bench-compression-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    const std::string dir = tmpl;
    agent::BoardConfig board = agent::DefaultInventory().boards.front();
    agent::FirmwareCache cache(dir + "/cache");
    auto connection = agent::Connect(board);
    agent::Measurer measurer(board, *connection, cache, nullptr, "bench");
    dataset::Options o;
    o.validation_limit = 3;
    const dataset::Dataset check = dataset::Load(o);
    std::vector<std::vector<int8_t>> inputs;
    for (int i = 0; i < 3; ++i) inputs.push_back(dataset::Int8Input(check.validation, i));

    std::printf(
        "hilnas-bench-compression: Fashion-MNIST, %d epochs dense, then %d more per row (dense "
        "trains on; the others 1 epoch, then prune in 2), 1 QAT epoch, %d CPU threads.\n"
        "Channel methods remove the row's share of each layer's channels at least (Bayesian "
        "compression: 2 epochs with the channel scales, then 2 fine-tuning the smaller network); "
        "sparse VD zeroes %.0f%% of the weights at least and the firmware stores them sparse.\n"
        "Measured on %s (QEMU) by the agent's Measurer; accuracy: int8 test (host runtime).\n\n",
        epochs, 3, threads, 100 * vd_target, board.type.c_str());
    int failures = 0;
    for (const Candidate& c : kCandidates) {
        if (!only.empty() && only != c.name) continue;
        TrialSpec spec;
        const arch::Model model = arch::ModelFromJson(c.json);
        arch::ModelToProto(model, spec.candidate.mutable_model());
        auto* t = spec.candidate.mutable_training();
        t->set_epochs(epochs);
        t->set_batch_size(128);
        t->set_learning_rate(3e-3);
        t->set_seed(1);
        spec.candidate.mutable_quantization()->set_qat(true);
        spec.candidate.mutable_quantization()->set_qat_epochs(1);
        spec.threads = threads;
        spec.eval_threads = threads;
        spec.device = "cpu";
        const TrialResult base = RunTrial(spec);

        TrialSpec warm = spec;
        warm.parent_checkpoint = base.checkpoint;
        warm.candidate.mutable_training()->set_learning_rate(1e-3);
        for (size_t i = 0; i < model.layers.size(); ++i) {
            if (!model.layers[i].has_weights()) continue;
            auto* l = warm.candidate.mutable_morphism()->add_layers();
            l->set_child_layer(static_cast<int>(i));
            l->set_parent_layer(static_cast<int>(i));
            l->set_kind(v1::MORPHISM_COPY);
        }
        struct Method {
            std::string name;
            v1::PruningMethod method;
            double target;
        };
        std::vector<Method> methods = {
            {"dense", v1::PRUNING_NONE, 0},
            {"sparse VD + sparse", v1::PRUNING_SPARSE_VD, vd_target},
        };
        for (const double target : targets) {
            const std::string share = std::to_string(static_cast<int>(100 * target + 0.5)) + "%";
            methods.push_back({"channel " + share, v1::PRUNING_CHANNEL, target});
            methods.push_back({"Bayesian " + share, v1::PRUNING_BAYESIAN, target});
        }
        std::vector<Row> rows;
        for (const Method& m : methods) {
            TrialSpec s = warm;
            if (m.method == v1::PRUNING_NONE) {
                s.candidate.mutable_training()->set_epochs(3);
            } else {
                s.candidate.mutable_training()->set_epochs(1);
                s.candidate.mutable_pruning()->set_method(m.method);
                s.candidate.mutable_pruning()->set_target_sparsity(m.target);
                s.candidate.mutable_pruning()->set_epochs(2);
            }
            Row r;
            r.method = m.name;
            try {
                const TrialResult result = RunTrial(s);
                agent::MeasureRequest req;
                req.model = result.artifact;
                req.settings.set_warmup_runs(1);
                req.settings.set_timed_runs(3);
                req.settings.set_check_inputs(3);
                req.inputs = inputs;
                req.inputs_source = "fashion-mnist validation[0..2]";
                const v1::Measurement meas = measurer.Measure(req).measurement;
                r.accuracy = result.metric("int8_accuracy");
                r.weight_bytes = result.metric("weight_bytes");
                r.dense_stored_bytes = DenseStoredBytes(result.final_model);
                r.flash = meas.flash().total_bytes();
                r.sram = meas.sram().total_bytes();
                r.latency_ms = meas.latency_ms();
                r.cycles = meas.cycles();
                r.outputs_match = meas.outputs_match_host();
            } catch (const std::exception& e) {
                std::printf("%s %s: failed: %s\n", c.name, m.name.c_str(), e.what());
                ++failures;
                continue;
            }
            failures += r.outputs_match ? 0 : 1;
            rows.push_back(r);
        }
        if (rows.empty() || rows.front().method != "dense") continue;
        const Row& d = rows.front();
        std::printf("%s\n%-22s %8s %7s %9s %7s %9s %7s %9s %7s %8s %5s\n", c.name, "method",
                    "int8 acc", "pts", "weights B", "x", "flash B", "x", "latency", "x", "SRAM B",
                    "exact");
        for (const Row& r : rows) {
            std::printf("%-22s %8.4f %+7.2f %9.0f %6.2fx %9lld %6.2fx %7.3fms %6.2fx %8lld %5s\n",
                        r.method.c_str(), r.accuracy, 100 * (r.accuracy - d.accuracy),
                        r.weight_bytes, d.weight_bytes / r.weight_bytes,
                        static_cast<long long>(r.flash),
                        static_cast<double>(d.flash) / static_cast<double>(r.flash), r.latency_ms,
                        d.latency_ms / r.latency_ms, static_cast<long long>(r.sram),
                        r.outputs_match ? "yes" : "NO");
        }
        for (const Row& r : rows) {
            if (r.method == "dense") continue;
            const double fewer = 1 - r.weight_bytes / d.weight_bytes;
            const double cost = 100 * (d.accuracy - r.accuracy);
            std::printf(
                "  %s: %.0f%% fewer weight bytes (%.0f stored dense) for %.2f points: goal "
                "(>= 60%% for <= 1.5) %s\n",
                r.method.c_str(), 100 * fewer, r.dense_stored_bytes, cost,
                fewer >= 0.6 && cost <= 1.5 ? "met" : "not met");
        }
        std::printf("\n");
        std::fflush(stdout);
    }
    std::filesystem::remove_all(dir);
    return failures == 0 ? 0 : 1;
}
