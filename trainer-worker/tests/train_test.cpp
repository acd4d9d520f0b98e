// Training on small Fashion-MNIST subsets: learning, reproducibility, QAT
// whose int8 export agrees with the host runtime, and the standalone command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "export.h"
#include "fit.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/trainer/pipeline.h"
#include "network.h"
#include "test_util.h"

namespace hilnas::trainer {
namespace {

const Dataset& Small() {
    static const Dataset data = [] {
        DatasetOptions o;
        o.train_limit = 4000;
        o.validation_limit = 1000;
        o.test_limit = 2000;
        return LoadDataset(o);
    }();
    return data;
}

FitOptions OneEpoch() {
    FitOptions f;
    f.epochs = 1;
    f.batch_size = 128;
    f.learning_rate = 3e-3;
    return f;
}

TEST(Train, LearnsAndTheInt8ModelAgreesWithQat) {
    torch::manual_seed(1);
    const Dataset& data = Small();
    Network net(testing::SmallLeNet());
    std::vector<Progress> seen;
    const FitReport r = Fit(
        *net, data, OneEpoch(), [&](const Progress& p) { seen.push_back(p); }, nullptr);
    ASSERT_EQ(seen.size(), 2u);  // the start, then one epoch
    EXPECT_EQ(seen[1].phase, "train");
    EXPECT_EQ(seen[1].epoch, 1);
    EXPECT_GT(seen[1].loss, 0);
    EXPECT_EQ(r.images, data.train.size());
    const double float_accuracy = Accuracy(*net, data.test, torch::kCPU);
    EXPECT_GT(float_accuracy, 0.6);  // chance is 0.1

    net->FoldBatchNorm();
    EXPECT_NEAR(Accuracy(*net, data.test, torch::kCPU), float_accuracy, 0.005);
    Calibrate(*net, data.train, torch::kCPU, 8);
    net->set_quant_mode(QuantMode::kFakeQuant);
    FitOptions qat = OneEpoch();
    qat.phase = "qat";
    qat.learning_rate = 3e-4;
    Fit(*net, data, qat, {}, nullptr);
    const v1::Int8Model artifact = ExportInt8(*net, "test");
    const torch::Tensor host = HostPredict(artifact, data.test);
    const torch::Tensor fake = Predict(*net, data.test, torch::kCPU);
    const double agree = host.eq(fake).sum().item<double>() / static_cast<double>(data.test.size());
    EXPECT_GE(agree, 0.99);
    EXPECT_GT(HostAccuracy(artifact, data.test), 0.6);
}

TEST(Train, SeededRunsOnTheCpuAreReproducible) {
    auto run = [] {
        torch::manual_seed(42);
        Network net(testing::SmallLeNet(4, 8, 16));
        FitOptions f = OneEpoch();
        f.optimizer = OptimizerKind::kSgd;
        f.learning_rate = 0.05;
        f.augment = true;
        Dataset data = Small();
        data.train =
            Split{data.train.images.narrow(0, 0, 600), data.train.labels.narrow(0, 0, 600)};
        f.evaluate = false;
        Fit(*net, data, f, {}, nullptr);
        return net;
    };
    Network a = run();
    Network b = run();
    for (int i : {0, 2, 5, 6}) {
        EXPECT_TRUE(torch::equal(a->layer(i).weight, b->layer(i).weight)) << "layer " << i;
    }
}

TEST(Train, CancellationStopsTraining) {
    Network net(testing::SmallLeNet(4, 8, 16));
    std::atomic<bool> cancel{true};
    EXPECT_THROW(Fit(*net, Small(), OneEpoch(), {}, &cancel), Cancelled);
}

TEST(Train, StandaloneCommandWritesTheArtifactAndMetrics) {
    const auto dir = testing::TempDir("cli");
    { std::ofstream(dir / "model.json") << arch::ModelToJson(testing::SmallLeNet(8, 16, 32)); }
    const std::string cmd = std::string(HILNAS_TRAINER_EXE) + " train --model " +
                            (dir / "model.json").string() + " --out " + (dir / "out").string() +
                            " --epochs 1 --train-limit 3000 --validation-limit 500" +
                            " --test-limit 1000 --qat --lr 0.003 --threads 2 2>" +
                            (dir / "log").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(dir / "out" / "metrics.json");
    const nlohmann::json m = nlohmann::json::parse(in);
    for (const char* key : {"float_accuracy", "int8_accuracy", "params", "weight_bytes", "sparsity",
                            "train_seconds"}) {
        EXPECT_TRUE(m.contains(key)) << key;
    }
    EXPECT_GT(m["int8_accuracy"].get<double>(), 0.5);
    EXPECT_EQ(m["sparsity"].get<double>(), 0.0);
    const v1::Int8Model a = artifact::ReadArtifact((dir / "out" / "model.hnm").string());
    EXPECT_EQ(arch::ModelFromProto(a.model()).layers.size(), 7u);
    // Progress went to stderr as it trained.
    std::ifstream log(dir / "log");
    const std::string text((std::istreambuf_iterator<char>(log)), {});
    EXPECT_THAT(text, ::testing::HasSubstr("[train] epoch 1/1"));
    EXPECT_THAT(text, ::testing::HasSubstr("[qat] epoch 1/1"));
    // Bad input is a clear error, exit status 2.
    const std::string bad = std::string(HILNAS_TRAINER_EXE) + " train --model " +
                            (dir / "model.json").string() + " --out " + (dir / "out2").string() +
                            " --dataset imagenet 2>/dev/null";
    EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
    const std::string bad_shrink = std::string(HILNAS_TRAINER_EXE) + " train --model " +
                                   (dir / "model.json").string() + " --out " +
                                   (dir / "out3").string() + " --dnas shrink=1.5 2>/dev/null";
    EXPECT_EQ(WEXITSTATUS(std::system(bad_shrink.c_str())), 2);
    std::filesystem::remove_all(dir);
}

// A whole trial with Bayesian compression, through the command line: the
// exported int8 model is the narrower one and still classifies.
TEST(Train, BayesianCompressionTrialExportsTheNarrowerModel) {
    const auto dir = testing::TempDir("bayes");
    { std::ofstream(dir / "model.json") << arch::ModelToJson(testing::SmallLeNet(8, 16, 32)); }
    const std::string base = std::string(HILNAS_TRAINER_EXE) + " train --model " +
                             (dir / "model.json").string() + " --epochs 1 --train-limit 3000" +
                             " --validation-limit 500 --test-limit 1000 --qat --lr 0.003" +
                             " --threads 2 --prune-epochs 2 --target-sparsity 0.4";
    const std::string cmd =
        base + " --prune bayesian --out " + (dir / "out").string() + " 2>" + (dir / "log").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(dir / "out" / "metrics.json");
    const nlohmann::json m = nlohmann::json::parse(in);
    for (const auto& [key, value] : m.items()) {
        EXPECT_NE(catalog::FindMetric(key), nullptr) << key << " is not in the metric catalogue";
    }
    EXPECT_GE(m["bayesian_channels_removed"].get<double>(), 0.4);
    EXPECT_LE(m["bayesian_channels_past_threshold"].get<double>(),
              m["bayesian_channels_removed"].get<double>());
    EXPECT_GT(m["bayesian_params_removed"].get<double>(), 0.0);
    EXPECT_LT(m["weight_bytes"].get<double>(), m["weight_bytes_before_pruning"].get<double>());
    EXPECT_GT(m["int8_accuracy"].get<double>(), 0.5);
    const v1::Int8Model a = artifact::ReadArtifact((dir / "out" / "model.hnm").string());
    EXPECT_NO_THROW(artifact::ValidateArtifact(a));
    const arch::Model final_model = arch::ModelFromProto(a.model());
    const arch::Model candidate = testing::SmallLeNet(8, 16, 32);
    EXPECT_LT(
        final_model.layers[0].filters + final_model.layers[2].filters + final_model.layers[5].units,
        candidate.layers[0].filters + candidate.layers[2].filters + candidate.layers[5].units);
    EXPECT_EQ(final_model.layers[6].units, 10);
    std::ifstream log(dir / "log");
    const std::string text((std::istreambuf_iterator<char>(log)), {});
    EXPECT_THAT(text, ::testing::HasSubstr("[prune] epoch 2/2"));
    // An unknown method is a clear error, exit status 2.
    const std::string bad =
        base + " --prune bayes --out " + (dir / "out2").string() + " 2>/dev/null";
    EXPECT_EQ(WEXITSTATUS(std::system(bad.c_str())), 2);
    std::filesystem::remove_all(dir);
}

TEST(Train, RunTrialWarmStartsFromAParentCheckpoint) {
    TrialSpec spec;
    arch::ModelToProto(testing::SmallLeNet(4, 8, 16), spec.candidate.mutable_model());
    spec.candidate.mutable_training()->set_epochs(1);
    spec.candidate.mutable_training()->set_train_limit(1500);
    spec.dataset.validation_limit = 300;
    spec.dataset.test_limit = 500;
    const TrialResult parent = RunTrial(spec);
    EXPECT_GT(parent.metric("int8_accuracy"), 0.4);
    // The child copies every layer and trains no further: its accuracy starts
    // where the parent's float model ended.
    spec.parent_checkpoint = parent.checkpoint;
    for (int i : {0, 2, 5, 6}) {
        auto* l = spec.candidate.mutable_morphism()->add_layers();
        l->set_child_layer(i);
        l->set_parent_layer(i);
        l->set_kind(v1::MORPHISM_COPY);
    }
    spec.candidate.mutable_training()->set_learning_rate(1e-9);
    const TrialResult child = RunTrial(spec);
    EXPECT_NEAR(child.metric("float_accuracy"), parent.metric("float_accuracy"), 0.03);
}

// Issue #11: the parent was channel-pruned, so its checkpoint is narrower
// than the candidate the child's maps index. The child still trains from the
// parent's (final) weights: with no learning it scores what the parent scored.
TEST(Train, AMorphismChildOfAChannelPrunedParentTrainsFromItsWeights) {
    TrialSpec spec;
    arch::ModelToProto(testing::SmallLeNet(8, 16, 32), spec.candidate.mutable_model());
    spec.candidate.mutable_training()->set_epochs(2);
    spec.candidate.mutable_training()->set_train_limit(3000);
    spec.candidate.mutable_pruning()->set_method(v1::PRUNING_CHANNEL);
    spec.candidate.mutable_pruning()->set_target_sparsity(0.4);
    spec.candidate.mutable_pruning()->set_epochs(2);
    spec.dataset.validation_limit = 300;
    spec.dataset.test_limit = 500;
    const TrialResult parent = RunTrial(spec);
    ASSERT_LT(parent.final_model.layers[0].filters, 8);  // pruned
    EXPECT_GT(parent.metric("float_accuracy"), 0.4);

    TrialSpec child_spec = spec;
    child_spec.candidate.clear_pruning();
    child_spec.parent_checkpoint = parent.checkpoint;
    for (int i : {0, 2, 5, 6}) {
        auto* l = child_spec.candidate.mutable_morphism()->add_layers();
        l->set_child_layer(i);
        l->set_parent_layer(i);
        l->set_kind(v1::MORPHISM_COPY);
    }
    child_spec.candidate.mutable_training()->set_learning_rate(1e-9);
    const TrialResult child = RunTrial(child_spec);
    EXPECT_EQ(child.final_model.layers[0].filters, 8);  // the candidate's width
    EXPECT_NEAR(child.metric("float_accuracy"), parent.metric("float_accuracy"), 0.03);
    // The same architecture from scratch, equally without learning, is near chance.
    child_spec.parent_checkpoint.clear();
    child_spec.candidate.clear_morphism();
    const TrialResult scratch = RunTrial(child_spec);
    EXPECT_LT(scratch.metric("float_accuracy"), parent.metric("float_accuracy") - 0.2);
}

// A morphism child starts measurably ahead (issue #11): a widened child of a
// trained parent, trained for one epoch, ends that epoch with a lower
// validation loss than the same architecture trained for one epoch from
// scratch, with the same recipe and seed.
TEST(Train, AWidenedMorphismChildEndsItsFirstEpochAheadOfScratch) {
    TrialSpec spec;
    arch::ModelToProto(testing::SmallLeNet(8, 16, 32), spec.candidate.mutable_model());
    spec.candidate.mutable_training()->set_epochs(2);
    spec.candidate.mutable_training()->set_train_limit(3000);
    spec.dataset.validation_limit = 500;
    spec.dataset.test_limit = 300;
    const TrialResult parent = RunTrial(spec);

    TrialSpec child = spec;
    arch::ModelToProto(testing::SmallLeNet(10, 16, 32), child.candidate.mutable_model());
    child.candidate.mutable_training()->set_epochs(1);
    child.parent_checkpoint = parent.checkpoint;
    const std::vector<int> widened{0, 1, 2, 3, 4, 5, 6, 7, 2, 5};
    auto* first = child.candidate.mutable_morphism()->add_layers();
    first->set_child_layer(0);
    first->set_parent_layer(0);
    first->set_kind(v1::MORPHISM_WIDEN);
    for (int c : widened) first->add_out_channel_map(c);
    auto* second = child.candidate.mutable_morphism()->add_layers();
    second->set_child_layer(2);
    second->set_parent_layer(2);
    second->set_kind(v1::MORPHISM_COPY);
    for (int c : widened) second->add_in_channel_map(c);
    for (int i : {5, 6}) {
        auto* l = child.candidate.mutable_morphism()->add_layers();
        l->set_child_layer(i);
        l->set_parent_layer(i);
        l->set_kind(v1::MORPHISM_COPY);
    }
    const TrialResult warm = RunTrial(child);
    TrialSpec scratch_spec = child;
    scratch_spec.parent_checkpoint.clear();
    scratch_spec.candidate.clear_morphism();
    const TrialResult scratch = RunTrial(scratch_spec);
    const double warm_loss = warm.metric("first_epoch_val_loss");
    const double scratch_loss = scratch.metric("first_epoch_val_loss");
    std::printf("first-epoch validation loss: morphism child %.4f, scratch %.4f (parent %.4f)\n",
                warm_loss, scratch_loss, parent.metric("first_epoch_val_loss"));
    EXPECT_GT(warm_loss, 0);
    EXPECT_LT(warm_loss, scratch_loss);
    // Ahead by more than noise: the child's first epoch is the parent's third.
    EXPECT_LT(warm_loss, 0.9 * scratch_loss);
}

}  // namespace
}  // namespace hilnas::trainer
