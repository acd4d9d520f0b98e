// The real trainer worker against the real controller: a small search job on
// Fashion-MNIST runs to the end with every trial trained by hilnas-trainer,
// its int8 accuracy measured by the host runtime and its artifact stored. A
// candidate that runs DNAS ends smaller than it started (its shrink gene sets
// budgets below its own cost), and its objectives are its final model's.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;

// The stored int8 artifact of `trial_id`, as a client downloads it.
std::string ArtifactOf(v1::SearchService::Stub& stub, const std::string& trial_id) {
    v1::GetArtifactRequest get;
    get.set_trial_id(trial_id);
    get.set_kind(v1::ARTIFACT_INT8_MODEL);
    auto ctx = rpc::MakeContext(10s);
    auto reader = stub.GetArtifact(ctx.get(), get);
    std::string bytes;
    for (v1::ArtifactChunk chunk; reader->Read(&chunk);) bytes += chunk.data();
    const grpc::Status done = reader->Finish();
    EXPECT_TRUE(done.ok()) << done.error_message();
    return bytes;
}

TEST(TrainerWorker, TrainsEveryTrialOfAJobThroughTheController) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("trainer"), dir.path().string(),
                                          {"--scheduler.tick", "200ms"});
    const std::string& address = controller.address();
    ProcessOptions worker;
    worker.argv = {testing::BuildPath("trainer-worker/hilnas-trainer"),
                   "--controller",
                   address,
                   "--threads",
                   "2",
                   "--lease-wait",
                   "1s"};
    Process trainer = Process::Start(worker, dir / "trainer.log");

    v1::SubmitJobRequest submit;
    v1::JobSpec& spec = *submit.mutable_spec();
    spec.set_name("worker-e2e");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.add_objectives(v1::OBJECTIVE_MACS);
    spec.mutable_search_space()->set_dnas(true);
    spec.mutable_search_space()->mutable_dnas_shrink()->set_min(0.3);
    spec.mutable_search_space()->mutable_dnas_shrink()->set_max(0.6);
    spec.mutable_search_space()->mutable_blocks()->set_min(1);
    spec.mutable_search_space()->mutable_blocks()->set_max(2);
    spec.mutable_search_space()->mutable_channels()->set_min(4);
    spec.mutable_search_space()->mutable_channels()->set_max(8);
    spec.mutable_search_space()->mutable_training()->mutable_epochs()->set_min(1);
    spec.mutable_search_space()->mutable_training()->mutable_epochs()->set_max(1);
    spec.mutable_budget()->set_max_trials(3);
    spec.mutable_budget()->set_max_parallel_trials(1);
    spec.mutable_measurement()->set_skip(true);
    spec.mutable_training()->set_train_limit(2000);
    spec.set_seed(5);
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::Job job;
    auto sctx = rpc::MakeContext(30s);
    const grpc::Status submitted = stub->SubmitJob(sctx.get(), submit, &job);
    ASSERT_TRUE(submitted.ok()) << submitted.error_message();

    for (int i = 0; i < 1500 && job.state() != v1::JOB_COMPLETED; ++i) {  // hang guard: 5 min
        std::this_thread::sleep_for(200ms);
        v1::GetJobRequest get;
        get.set_job_id(job.job_id());
        auto ctx = rpc::MakeContext(10s);
        stub->GetJob(ctx.get(), get, &job);
    }
    auto log = [&](const char* name) {
        std::ifstream in(dir / name);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    ASSERT_EQ(job.state(), v1::JOB_COMPLETED) << log("controller.log") << log("trainer.log");
    EXPECT_EQ(job.trials().complete(), 3);

    v1::ListTrialsRequest list;
    list.set_job_id(job.job_id());
    v1::ListTrialsResponse trials;
    auto lctx = rpc::MakeContext(10s);
    ASSERT_TRUE(stub->ListTrials(lctx.get(), list, &trials).ok());
    ASSERT_EQ(trials.trials_size(), 3);
    double best = 0;
    int dnas_trials = 0;
    for (const v1::Trial& t : trials.trials()) {
        if (t.candidate().dnas().enabled()) {
            // The job's limits (the board's) are far above these models; the
            // gene's budgets are below the candidate's own MACs, and what the
            // optimiser observes is the final model's.
            ++dnas_trials;
            const int64_t start =
                arch::ComputeCost(arch::Analyze(arch::ModelFromProto(t.candidate().model()))).macs;
            double macs = -1, budget = -1;
            for (const auto& o : t.objectives()) {
                if (o.objective() == v1::OBJECTIVE_MACS) macs = o.value();
            }
            for (const auto& m : t.metrics()) {
                if (m.name() == "dnas_budget_macs") budget = m.value();
            }
            EXPECT_LT(budget, static_cast<double>(start)) << t.trial_id();
            EXPECT_LE(macs, budget) << t.trial_id();
            EXPECT_LT(macs, static_cast<double>(start)) << t.trial_id();
            const v1::Int8Model final_model =
                artifact::ParseArtifact(ArtifactOf(*stub, t.trial_id()), "stored");
            EXPECT_EQ(
                macs,
                static_cast<double>(
                    arch::ComputeCost(arch::Analyze(arch::ModelFromProto(final_model.model())))
                        .macs))
                << t.trial_id();
        }
        double accuracy = -1;
        for (const auto& m : t.metrics()) {
            if (m.name() == "int8_accuracy") accuracy = m.value();
        }
        EXPECT_TRUE(accuracy > 0 && accuracy <= 1) << accuracy;
        best = std::max(best, accuracy);
        bool has_model = false;
        for (const auto& a : t.artifacts()) has_model |= a.kind() == v1::ARTIFACT_INT8_MODEL;
        EXPECT_TRUE(has_model);
    }
    EXPECT_GT(best, 0.3) << "the best candidate is far above chance (0.1) after one epoch";
    EXPECT_GT(dnas_trials, 0) << "the seed draws at least one DNAS candidate";
    // The stored artifact is a valid int8 model the boards can run.
    EXPECT_NO_THROW(artifact::ValidateArtifact(
        artifact::ParseArtifact(ArtifactOf(*stub, trials.trials(0).trial_id()), "stored")));

    // SIGTERM: the worker stops cleanly.
    ::kill(trainer.pid(), SIGTERM);
    const auto status = trainer.WaitFor(60s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 0") << log("trainer.log");
}

}  // namespace
}  // namespace hilnas
