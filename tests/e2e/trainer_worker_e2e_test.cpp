// The real trainer worker against the real controller: a small search job on
// Fashion-MNIST runs to the end with every trial trained by hilnas-trainer,
// its int8 accuracy measured by the host runtime and its artifact stored.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

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
    for (const v1::Trial& t : trials.trials()) {
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
    // The stored artifact is a valid int8 model the boards can run.
    v1::GetArtifactRequest get;
    get.set_trial_id(trials.trials(0).trial_id());
    get.set_kind(v1::ARTIFACT_INT8_MODEL);
    auto actx = rpc::MakeContext(10s);
    auto reader = stub->GetArtifact(actx.get(), get);
    std::string bytes;
    for (v1::ArtifactChunk chunk; reader->Read(&chunk);) bytes += chunk.data();
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_NO_THROW(artifact::ValidateArtifact(artifact::ParseArtifact(bytes, "stored")));

    // SIGTERM: the worker stops cleanly.
    ::kill(trainer.pid(), SIGTERM);
    const auto status = trainer.WaitFor(60s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 0") << log("trainer.log");
}

}  // namespace
}  // namespace hilnas
