// hilnas-trainer: the trainer worker.
//
//   hilnas-trainer info  [--device cpu|cuda|auto]
//   hilnas-trainer train --model model.json --out DIR [--dataset fashion-mnist] [--epochs E]
//                        [--prune sparse_vd|channel|bayesian --target-sparsity F] [--qat]
//                        [--dnas sram=B,flash=B,macs=N,shrink=F] ... (--help lists all)
//   hilnas-trainer [work] --controller HOST:PORT [--device auto] [--threads N]
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "device.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/common/version.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/rpc/controller_client.h"
#include "hilnas/trainer/pipeline.h"
#include "hilnas/trainer/worker.h"

namespace {

using hilnas::Config;
using hilnas::ConfigSchema;
using hilnas::InvalidArgument;
using hilnas::OptionType;

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

const char* kUsage =
    "usage: hilnas-trainer info [--device cpu|cuda|auto]\n"
    "       hilnas-trainer train --model model.json --out DIR [options]   (train --help)\n"
    "       hilnas-trainer [work] --controller HOST:PORT [options]        (work --help)\n";

std::string ReadFile(const std::string& path, const std::string& field) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw hilnas::NotFound("cannot read " + path, field);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out) throw hilnas::Unavailable("cannot write " + path.string(), "out");
}

// "sram=20000,flash=60000,macs=2000000,shrink=0.5" (any subset).
void ParseBudget(const std::string& text, hilnas::v1::DnasSettings* d) {
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const size_t eq = item.find('=');
        if (eq == std::string::npos)
            throw InvalidArgument("expected key=value, got '" + item + "'", "dnas");
        const std::string key = item.substr(0, eq);
        if (key == "shrink") {
            double shrink = 0;
            try {
                size_t used = 0;
                shrink = std::stod(item.substr(eq + 1), &used);
                if (used != item.size() - eq - 1) throw std::invalid_argument("");
            } catch (const std::exception&) {
                shrink = -1;
            }
            if (!(shrink > 0 && shrink <= 1)) {
                throw InvalidArgument("'" + item + "' needs a number in (0, 1]", "dnas");
            }
            d->set_shrink(shrink);
            continue;
        }
        int64_t value = 0;
        try {
            size_t used = 0;
            value = std::stoll(item.substr(eq + 1), &used);
            if (used != item.size() - eq - 1 || value <= 0) throw std::invalid_argument("");
        } catch (const std::exception&) {
            throw InvalidArgument("'" + item + "' needs a positive integer", "dnas");
        }
        if (key == "sram") {
            d->set_max_sram_bytes(value);
        } else if (key == "flash") {
            d->set_max_flash_bytes(value);
        } else if (key == "macs") {
            d->set_max_macs(value);
        } else {
            throw InvalidArgument("unknown budget '" + key + "' (sram, flash, macs, shrink)",
                                  "dnas");
        }
    }
}

int Info(const std::vector<std::string>& args) {
    ConfigSchema schema;
    schema.Add({"device", OptionType::kString, "auto", "cpu, cuda or auto"});
    const auto config = Config::Load(schema, args, hilnas::ProcessEnvironment());
    const auto info = hilnas::trainer::ProbeDevice();
    std::cout << "{\"hilnas\":\"" << hilnas::Version() << "\",\"libtorch\":\"" << info.torch_version
              << "\",\"cuda_available\":" << (info.cuda_available ? "true" : "false")
              << ",\"cuda_devices\":" << info.cuda_devices
              << ",\"cpu_threads\":" << info.cpu_threads << ",\"device\":\""
              << hilnas::trainer::ResolveDevice(config.GetString("device")) << "\"}\n";
    return 0;
}

int Train(const std::vector<std::string>& args) {
    ConfigSchema s;
    s.Add({"model", OptionType::kString, "", "the model IR (JSON file); required"});
    s.Add({"out", OptionType::kString, "", "output directory; required"});
    s.Add({"dataset", OptionType::kString, hilnas::dataset::kDefaultDataset,
           "fashion-mnist, mnist or cifar10"});
    s.Add({"data_dir", OptionType::kString, "", "dataset directory (default: the Debian package)"});
    s.Add({"validation_fraction", OptionType::kDouble, "0.1",
           "validation split of the training set"});
    s.Add({"train_limit", OptionType::kInt, "0", "use at most this many training images (0: all)"});
    s.Add({"validation_limit", OptionType::kInt, "0", "at most this many validation images"});
    s.Add({"test_limit", OptionType::kInt, "0", "at most this many test images (0: all)"});
    s.Add({"epochs", OptionType::kInt, "3", "training epochs"});
    s.Add({"batch_size", OptionType::kInt, "128", "batch size"});
    s.Add({"optimizer", OptionType::kString, "adamw", "adamw or sgd"});
    s.Add(
        {"lr", OptionType::kDouble, "0", "peak learning rate of the cosine schedule (0: default)"});
    s.Add({"weight_decay", OptionType::kDouble, "0", "weight decay (0: default)"});
    s.Add({"momentum", OptionType::kDouble, "0", "SGD momentum (0: 0.9)"});
    s.Add({"label_smoothing", OptionType::kDouble, "0", "label smoothing"});
    s.Add({"augment", OptionType::kBool, "false", "random shifts (and flips where they suit)"});
    s.Add({"seed", OptionType::kInt, "1", "random seed"});
    s.Add({"prune", OptionType::kString, "none", "none, sparse_vd, channel or bayesian"});
    s.Add(
        {"target_sparsity", OptionType::kDouble, "0.5", "fraction of weights (channels) removed"});
    s.Add({"prune_epochs", OptionType::kInt, "1", "epochs of pruning (and fine-tuning)"});
    s.Add({"kl_weight", OptionType::kDouble, "0",
           "sparse VD and Bayesian KL weight (0: the method's default)"});
    s.Add({"log_alpha_threshold", OptionType::kDouble, "3",
           "sparse VD: prune weights, Bayesian: channels, where log alpha exceeds"});
    s.Add({"qat", OptionType::kBool, "false", "quantisation-aware training before export"});
    s.Add({"qat_epochs", OptionType::kInt, "1", "QAT epochs"});
    s.Add({"weight_bits", OptionType::kInt, "8", "8 or 4 (IR attributes override)"});
    s.Add({"dnas", OptionType::kString, "",
           "DNAS width search under sram=B,flash=B,macs=N and/or shrink=F (budgets that far "
           "from the narrowest widths to the model's own)"});
    s.Add({"dnas_epochs", OptionType::kInt, "1", "DNAS search epochs"});
    s.Add({"dnas_groups", OptionType::kInt, "4", "channel groups per layer"});
    s.Add({"dnas_penalty", OptionType::kDouble, "0", "penalty weight (0: default)"});
    s.Add({"device", OptionType::kString, "cpu", "cpu, cuda or auto"});
    s.Add({"threads", OptionType::kInt, "0", "CPU threads (0: LibTorch's default)"});
    s.Add({"eval_threads", OptionType::kInt, "2", "threads of the host int8 runtime"});
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-trainer train: options\n" << s.Help();
        return 0;
    }
    if (c.GetString("model").empty()) throw InvalidArgument("is required", "model");
    if (c.GetString("out").empty()) throw InvalidArgument("is required", "out");

    hilnas::trainer::TrialSpec spec;
    hilnas::v1::Candidate& cand = spec.candidate;
    hilnas::arch::ModelToProto(hilnas::arch::ModelFromJson(ReadFile(c.GetString("model"), "model")),
                               cand.mutable_model());
    auto* t = cand.mutable_training();
    const std::string opt = c.GetString("optimizer");
    if (opt != "adamw" && opt != "sgd") throw InvalidArgument("must be adamw or sgd", "optimizer");
    t->set_optimizer(opt == "sgd" ? hilnas::v1::TRAIN_OPTIMIZER_SGD
                                  : hilnas::v1::TRAIN_OPTIMIZER_ADAMW);
    t->set_learning_rate(c.GetDouble("lr"));
    t->set_weight_decay(c.GetDouble("weight_decay"));
    t->set_momentum(c.GetDouble("momentum"));
    t->set_epochs(static_cast<int>(c.GetInt("epochs")));
    t->set_batch_size(static_cast<int>(c.GetInt("batch_size")));
    t->set_augment(c.GetBool("augment"));
    t->set_label_smoothing(c.GetDouble("label_smoothing"));
    t->set_seed(static_cast<uint64_t>(c.GetInt("seed")));
    t->set_train_limit(static_cast<int>(c.GetInt("train_limit")));
    const std::string prune = c.GetString("prune");
    auto* p = cand.mutable_pruning();
    if (prune == "sparse_vd") {
        p->set_method(hilnas::v1::PRUNING_SPARSE_VD);
    } else if (prune == "channel") {
        p->set_method(hilnas::v1::PRUNING_CHANNEL);
    } else if (prune == "bayesian") {
        p->set_method(hilnas::v1::PRUNING_BAYESIAN);
    } else if (prune != "none") {
        throw InvalidArgument("must be none, sparse_vd, channel or bayesian", "prune");
    }
    p->set_target_sparsity(c.GetDouble("target_sparsity"));
    p->set_epochs(static_cast<int>(c.GetInt("prune_epochs")));
    p->set_kl_weight(c.GetDouble("kl_weight"));
    p->set_log_alpha_threshold(c.GetDouble("log_alpha_threshold"));
    cand.mutable_quantization()->set_qat(c.GetBool("qat"));
    cand.mutable_quantization()->set_qat_epochs(static_cast<int>(c.GetInt("qat_epochs")));
    cand.mutable_quantization()->set_weight_bits(static_cast<int>(c.GetInt("weight_bits")));
    if (!c.GetString("dnas").empty()) {
        auto* d = cand.mutable_dnas();
        d->set_enabled(true);
        ParseBudget(c.GetString("dnas"), d);
        d->set_epochs(static_cast<int>(c.GetInt("dnas_epochs")));
        d->set_channel_groups(static_cast<int>(c.GetInt("dnas_groups")));
        d->set_penalty_weight(c.GetDouble("dnas_penalty"));
    }
    spec.dataset.name = c.GetString("dataset");
    spec.dataset.path = c.GetString("data_dir");
    spec.dataset.validation_fraction = c.GetDouble("validation_fraction");
    spec.dataset.validation_limit = c.GetInt("validation_limit");
    spec.dataset.test_limit = c.GetInt("test_limit");
    spec.device = c.GetString("device");
    spec.threads = static_cast<int>(c.GetInt("threads"));
    spec.eval_threads = static_cast<int>(c.GetInt("eval_threads"));
    spec.producer = std::string("hilnas-trainer ") + hilnas::Version();

    const std::filesystem::path out = c.GetString("out");
    std::filesystem::create_directories(out);
    auto progress = [](const hilnas::trainer::Progress& pr) {
        if (pr.epoch == 0) return;
        std::cerr << "[" << pr.phase << "] epoch " << pr.epoch << "/" << pr.epochs << " loss "
                  << pr.loss;
        if (pr.val_accuracy >= 0) std::cerr << " val_accuracy " << pr.val_accuracy;
        std::cerr << " (" << static_cast<int>(pr.seconds) << " s)\n";
    };
    const auto result = hilnas::trainer::RunTrial(spec, progress, &g_stop);
    hilnas::artifact::WriteArtifact((out / "model.hnm").string(), result.artifact);
    WriteFile(out / "model.json", hilnas::arch::ModelToJson(result.final_model, true) + "\n");
    WriteFile(out / "checkpoint.pt", result.checkpoint);
    WriteFile(out / "metrics.json", hilnas::trainer::MetricsToJson(result));
    std::cout << hilnas::trainer::MetricsToJson(result);
    return 0;
}

int Work(const std::vector<std::string>& args) {
    ConfigSchema s;
    hilnas::rpc::AddControllerClientOptions(s, "worker bearer token");
    s.Add({"worker_id", OptionType::kString, "", "worker id (default hostname-pid)"});
    s.Add({"device", OptionType::kString, "auto", "cpu, cuda or auto"});
    s.Add({"threads", OptionType::kInt, "0", "CPU threads (0: LibTorch's default)"});
    hilnas::dataset::AddDatasetsOption(s, "the worker advertises those present");
    hilnas::rpc::AddLeaseWaitOption(s);
    s.Add({"max_trials", OptionType::kInt, "0", "stop after this many trials (0: never)"});
    hilnas::AddLogOptions(s);
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-trainer work: options\n" << s.Help();
        return 0;
    }
    hilnas::InitLogging("hilnas-trainer", hilnas::LogOptionsFrom(c));
    const hilnas::rpc::ControllerClientOptions controller =
        hilnas::rpc::ControllerClientOptionsFrom(c);
    hilnas::trainer::ResolveDevice(c.GetString("device"));  // fail fast on a bad device
    auto client = hilnas::trainer::MakeGrpcWorkClient(controller);
    hilnas::trainer::WorkerOptions o;
    o.worker_id = c.GetString("worker_id");
    o.device = c.GetString("device");
    o.threads = static_cast<int>(c.GetInt("threads"));
    o.datasets = hilnas::dataset::Locations::FromConfig(c);
    o.lease_wait = c.GetDuration("lease_wait");
    o.max_trials = static_cast<int>(c.GetInt("max_trials"));
    spdlog::info("hilnas-trainer {} working for {}", hilnas::Version(), controller.address);
    hilnas::trainer::Worker worker(*client, o);
    const int done = worker.Run(g_stop);
    spdlog::info("stopped after {} trials", done);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    try {
        const std::string cmd = args.front();
        if (cmd == "info") return Info({args.begin() + 1, args.end()});
        if (cmd == "train") return Train({args.begin() + 1, args.end()});
        if (cmd == "work") return Work({args.begin() + 1, args.end()});
        if (cmd.rfind("--", 0) == 0) return Work(args);
        std::cerr << kUsage;
        return 2;
    } catch (const hilnas::trainer::Cancelled&) {
        std::cerr << "hilnas-trainer: stopped\n";
        return 143;
    } catch (const hilnas::Error& e) {
        std::cerr << "hilnas-trainer: " << e.what() << "\n";
        return hilnas::IsCallersFault(e.code()) ? 2 : 1;
    }
}
