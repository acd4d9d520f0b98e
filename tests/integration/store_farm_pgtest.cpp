// What `hilnas boards` and `hilnas workers` read: every board with its agent,
// health and use over the last 24 hours and the trial it measures now; every
// trainer worker with its capabilities, liveness and the trials it leases.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "hilnas/store/store.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using std::chrono::milliseconds;

class FarmTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("farm");
        store_ = std::make_unique<store::Store>(testing::OptionsFor(dsn_));
        job_ = store_->CreateJob("alice", testing::Spec({v1::OBJECTIVE_ERROR}, true)).job_id();
        store_->SetJobState(job_, v1::JOB_RUNNING, "started");
        trials_ = store_->InsertTrials(job_, testing::SomeTrials(3));
    }

    // Trains the oldest pending trial as `worker`; returns its id.
    std::string Train(const std::string& worker) {
        const auto lease = store_->ClaimTrial(worker, testing::Cpu());
        EXPECT_TRUE(lease);
        if (!lease) return "";
        store::TrainingResult trained;
        trained.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.1)};
        trained.artifacts = {testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 1000, 1)};
        EXPECT_EQ(store_->CompleteTrial(worker, lease->lease.lease_id(), trained),
                  v1::TRIAL_TRAINED);
        return lease->lease.trial_id();
    }

    const store::BoardUtilisation& Board(const store::FarmView& farm, const std::string& id) {
        for (const auto& b : farm.boards) {
            if (b.board_id == id) return b;
        }
        ADD_FAILURE() << "no board " << id;
        static const store::BoardUtilisation kNone;
        return kNone;
    }

    std::string dsn_;
    std::unique_ptr<store::Store> store_;
    std::string job_;
    std::vector<std::string> trials_;
};

TEST_F(FarmTest, BoardsShowHealthUseAndTheTrialMeasuredNow) {
    store::AgentRegistration agent;
    agent.agent_id = "lab-1";
    agent.hostname = "lab-host";
    agent.boards.push_back(testing::QemuBoard("lab-1/qemu-0"));
    agent.boards.push_back(testing::QemuBoard("lab-1/f746", "nucleo-f746zg"));
    store_->RegisterAgent(agent);

    store::FarmView farm = store_->ListBoardUtilisation();
    ASSERT_EQ(farm.boards.size(), 2u);
    EXPECT_EQ(farm.boards[0].board_id, "lab-1/f746");  // by board id
    EXPECT_EQ(farm.boards[1].board_id, "lab-1/qemu-0");
    for (const auto& b : farm.boards) {
        EXPECT_EQ(b.agent_id, "lab-1");
        EXPECT_EQ(b.agent_hostname, "lab-host");
        EXPECT_EQ(b.health, v1::BOARD_HEALTH_GOOD);
        EXPECT_EQ(b.debugger, v1::DEBUGGER_QEMU);
        EXPECT_TRUE(b.active);
        EXPECT_EQ(b.measuring_trial_id, "");
        EXPECT_EQ(b.measurements_24h, 0);
        EXPECT_EQ(b.failed_leases_24h, 0);
        EXPECT_EQ(b.utilisation_24h, 0.0);
        EXPECT_LE(b.last_seen, farm.as_of);
    }
    EXPECT_EQ(farm.boards[0].board_type, "nucleo-f746zg");

    // One measurement done, one failed (a retry), and the same trial measuring again.
    Train("w");
    const auto measuring = store_->ClaimMeasurement("lab-1", "lab-1/qemu-0");
    ASSERT_TRUE(measuring);
    store::MeasurementResult measured;
    measured.measurement = testing::SomeMeasurement();
    store_->CompleteMeasurement("lab-1", measuring->lease.lease_id(), measured);
    const std::string second = Train("w");
    const auto failing = store_->ClaimMeasurement("lab-1", "lab-1/qemu-0");
    ASSERT_TRUE(failing);
    store::Failure failure;
    failure.reason = "uart timeout";
    failure.retryable = true;
    store_->FailMeasurement("lab-1", failing->lease.lease_id(), failure);
    const auto again = store_->ClaimMeasurement("lab-1", "lab-1/qemu-0");
    ASSERT_TRUE(again);
    ASSERT_EQ(again->lease.trial_id(), second);
    store_->ReportBoardHealth("lab-1", "lab-1/f746", v1::BOARD_HEALTH_BAD, "no probe");

    farm = store_->ListBoardUtilisation();
    const store::BoardUtilisation& qemu = Board(farm, "lab-1/qemu-0");
    EXPECT_EQ(qemu.measuring_trial_id, second);
    EXPECT_EQ(qemu.measuring_job_id, job_);
    EXPECT_EQ(qemu.measuring_job_owner, "alice");
    EXPECT_EQ(qemu.measurements_total, 1);
    EXPECT_EQ(qemu.measurements_24h, 1);
    EXPECT_EQ(qemu.failed_leases_24h, 1);
    EXPECT_GT(qemu.busy_seconds_24h, 0.0);
    EXPECT_DOUBLE_EQ(qemu.utilisation_24h, qemu.busy_seconds_24h / 86400.0);
    EXPECT_LT(qemu.utilisation_24h, 1.0);
    const store::BoardUtilisation& f746 = Board(farm, "lab-1/f746");
    EXPECT_EQ(f746.health, v1::BOARD_HEALTH_BAD);
    EXPECT_EQ(f746.health_reason, "no probe");
    EXPECT_EQ(f746.measuring_trial_id, "");
    EXPECT_EQ(f746.measurements_total, 0);

    // A board its agent no longer lists stays, inactive.
    agent.boards.erase(agent.boards.begin() + 1);
    store_->RegisterAgent(agent);
    farm = store_->ListBoardUtilisation();
    ASSERT_EQ(farm.boards.size(), 2u);
    EXPECT_FALSE(Board(farm, "lab-1/f746").active);
    EXPECT_TRUE(Board(farm, "lab-1/qemu-0").active);
}

TEST_F(FarmTest, WorkersShowCapabilitiesLivenessAndTheirLeases) {
    EXPECT_TRUE(store_->ListWorkers(std::chrono::seconds(60)).workers.empty());

    v1::WorkerCapabilities gpu;
    gpu.set_device(v1::DEVICE_CUDA);
    gpu.set_device_name("NVIDIA H100");
    gpu.set_memory_bytes(80LL << 30);
    gpu.set_cpu_threads(16);
    gpu.set_hostname("gpu-host");
    gpu.set_version("1.2.3");
    gpu.add_datasets("fashion-mnist");
    gpu.add_datasets("cifar10");
    const auto held = store_->ClaimTrial("w-gpu", gpu, std::chrono::minutes(10));
    ASSERT_TRUE(held);
    Train("w-cpu");  // seen, holds nothing

    store::WorkerView view = store_->ListWorkers(std::chrono::seconds(60));
    ASSERT_EQ(view.workers.size(), 2u);
    const store::WorkerInfo& cpu_worker = view.workers[0];
    const store::WorkerInfo& gpu_worker = view.workers[1];
    EXPECT_EQ(cpu_worker.worker_id, "w-cpu");  // by worker id
    EXPECT_EQ(cpu_worker.device, v1::DEVICE_CPU);
    EXPECT_EQ(cpu_worker.cpu_threads, 2);
    EXPECT_EQ(cpu_worker.hostname, "test-host");
    EXPECT_TRUE(cpu_worker.datasets.empty());  // any
    EXPECT_TRUE(cpu_worker.live);
    EXPECT_TRUE(cpu_worker.leases.empty());
    EXPECT_LE(cpu_worker.first_seen, cpu_worker.last_seen);
    EXPECT_LE(cpu_worker.last_seen, view.as_of);

    EXPECT_EQ(gpu_worker.worker_id, "w-gpu");
    EXPECT_EQ(gpu_worker.device, v1::DEVICE_CUDA);
    EXPECT_EQ(gpu_worker.device_name, "NVIDIA H100");
    EXPECT_EQ(gpu_worker.memory_bytes, 80LL << 30);
    EXPECT_EQ(gpu_worker.cpu_threads, 16);
    EXPECT_EQ(gpu_worker.version, "1.2.3");
    EXPECT_EQ(gpu_worker.datasets, (std::vector<std::string>{"fashion-mnist", "cifar10"}));
    EXPECT_TRUE(gpu_worker.live);
    ASSERT_EQ(gpu_worker.leases.size(), 1u);
    const store::WorkerTrialLease& lease = gpu_worker.leases[0];
    EXPECT_EQ(lease.trial_id, held->lease.trial_id());
    EXPECT_EQ(lease.job_id, job_);
    EXPECT_EQ(lease.job_owner, "alice");
    EXPECT_EQ(lease.trial_number, store_->GetTrial(lease.trial_id).number());
    EXPECT_GE(lease.expires_at - lease.leased_at, std::chrono::minutes(9));

    // Both go quiet for an hour: the one holding a lease is still live, as
    // LiveWorkerDatasets counts it.
    {
        pqxx::connection conn(dsn_);
        pqxx::work tx(conn);
        tx.exec("UPDATE workers SET last_seen_at = now() - interval '1 hour'");
        tx.commit();
    }
    view = store_->ListWorkers(std::chrono::seconds(60));
    ASSERT_EQ(view.workers.size(), 2u);
    EXPECT_FALSE(view.workers[0].live);
    EXPECT_TRUE(view.workers[1].live);
    EXPECT_EQ(store_->LiveWorkerDatasets(std::chrono::seconds(60)).workers, 1);
    EXPECT_LE(view.workers[0].last_seen, view.as_of - std::chrono::minutes(59));
    // A window longer than the silence makes it live again.
    EXPECT_TRUE(store_->ListWorkers(std::chrono::hours(2)).workers[0].live);
}

}  // namespace
}  // namespace hilnas
