// The lease queues: exactly-once claims under concurrency, leases that expire
// and are reaped (with bounded attempts), refused stale completions, the
// measurement queue, cancellation through heartbeats, and the job event log.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <latch>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "hilnas/common/errors.h"
#include "hilnas/store/store.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

class QueueTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("queue");
        store_ = std::make_unique<store::Store>(testing::OptionsFor(dsn_));
    }

    std::string NewJob(const v1::JobSpec& spec) {
        const std::string id = store_->CreateJob("alice", spec).job_id();
        store_->SetJobState(id, v1::JOB_RUNNING, "started");
        return id;
    }

    std::string dsn_;
    std::unique_ptr<store::Store> store_;
};

TEST_F(QueueTest, EightClientsClaimTwoThousandTrialsEachExactlyOnce) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES}));
    const std::vector<std::string> inserted = store_->InsertTrials(job, testing::SomeTrials(2000));
    ASSERT_EQ(inserted.size(), 2000u);

    constexpr int kClients = 8;
    struct Claim {
        std::string trial_id;
        std::string lease_id;
        std::string worker;
    };
    std::vector<std::vector<Claim>> claims(kClients);
    std::vector<std::string> errors(kClients);
    std::latch start(kClients);
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
        threads.emplace_back([&, c] {
            const std::string worker = "worker-" + std::to_string(c);
            start.arrive_and_wait();
            try {
                while (auto lease = store_->ClaimTrial(worker, testing::Cpu())) {
                    claims[static_cast<size_t>(c)].push_back(
                        {lease->lease.trial_id(), lease->lease.lease_id(), worker});
                }
            } catch (const std::exception& e) {
                errors[static_cast<size_t>(c)] = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();
    for (const std::string& e : errors) EXPECT_EQ(e, "");

    // Each trial claimed once, by one client, under one lease.
    std::map<std::string, Claim> by_trial;
    std::set<std::string> lease_ids;
    size_t total = 0;
    for (const auto& client : claims) {
        for (const Claim& claim : client) {
            ++total;
            EXPECT_TRUE(by_trial.emplace(claim.trial_id, claim).second)
                << claim.trial_id << " claimed twice";
            EXPECT_TRUE(lease_ids.insert(claim.lease_id).second);
        }
    }
    EXPECT_EQ(total, 2000u);
    EXPECT_EQ(by_trial.size(), 2000u);
    for (const std::string& id : inserted) EXPECT_EQ(by_trial.count(id), 1u) << id;

    // The database agrees: every trial is training under the lease its client got.
    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT id, state, lease_id, lease_owner, attempts FROM trials "
        "WHERE job_id = $1",
        job);
    ASSERT_EQ(rows.size(), 2000u);
    for (const pqxx::row& r : rows) {
        const Claim& claim = by_trial.at(r[0].as<std::string>());
        EXPECT_EQ(r[1].as<std::string>(), "training");
        EXPECT_EQ(r[2].as<std::string>(), claim.lease_id);
        EXPECT_EQ(r[3].as<std::string>(), claim.worker);
        EXPECT_EQ(r[4].as<int>(), 0);
    }
    // And one pending -> training event per trial.
    EXPECT_EQ(tx.exec_params1("SELECT count(*) FROM job_events WHERE job_id = $1 AND "
                              "kind = 'trial_state' AND payload->>'to' = 'TRIAL_TRAINING'",
                              job)[0]
                  .as<int>(),
              2000);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM workers")[0].as<int>(), kClients);
}

TEST_F(QueueTest, AnExpiredLeaseIsReapedAndReclaimedUntilAttemptsRunOut) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, true, /*max_attempts=*/3));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);

    std::string last_lease;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        auto lease =
            store_->ClaimTrial("w" + std::to_string(attempt), testing::Cpu(), milliseconds(50));
        ASSERT_TRUE(lease.has_value()) << "attempt " << attempt;
        EXPECT_EQ(lease->lease.trial_id(), trial);
        EXPECT_EQ(lease->lease.attempt(), attempt);
        last_lease = lease->lease.lease_id();

        const store::ReapedLease reaped = testing::ReapUntil(*store_, last_lease);
        EXPECT_EQ(reaped.trial_id, trial);
        EXPECT_EQ(reaped.job_id, job);
        const v1::Trial t = store_->GetTrial(trial);
        EXPECT_EQ(t.attempts(), attempt);
        if (attempt < 3) {
            EXPECT_EQ(reaped.state, v1::TRIAL_PENDING);
            EXPECT_EQ(t.state(), v1::TRIAL_PENDING);
        } else {
            EXPECT_EQ(reaped.state, v1::TRIAL_FAILED);
            EXPECT_EQ(t.state(), v1::TRIAL_FAILED);
            EXPECT_THAT(t.last_error(), HasSubstr("expired"));
            EXPECT_THAT(t.last_error(), HasSubstr("attempt 3 of 3"));
        }
    }
    EXPECT_FALSE(store_->ClaimTrial("w4", testing::Cpu()).has_value());

    // The last holder comes back late: refused, and nothing changes.
    const v1::Trial before = store_->GetTrial(trial);
    store::TrainingResult result;
    result.metrics = {testing::Metric("int8_accuracy", 0.9)};
    result.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.1)};
    try {
        store_->CompleteTrial("w3", last_lease, result);
        FAIL() << "a reaped lease completed";
    } catch (const FailedPrecondition& e) {
        EXPECT_THAT(e.what(), HasSubstr("expired"));
    }
    EXPECT_THROW(store_->FailTrial("w3", last_lease, {"late", true}), FailedPrecondition);
    EXPECT_THROW(store_->RenewLease("w3", last_lease), FailedPrecondition);
    EXPECT_TRUE(MessageDifferencer::Equals(store_->GetTrial(trial), before));
}

TEST_F(QueueTest, ALateCompletionAfterAReclaimIsRefusedAndTheNewHolderKeepsTheTrial) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    const auto first = store_->ClaimTrial("slow", testing::Cpu(), milliseconds(30));
    ASSERT_TRUE(first);
    testing::ReapUntil(*store_, first->lease.lease_id());
    const auto second = store_->ClaimTrial("fast", testing::Cpu(), std::chrono::minutes(5));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->lease.trial_id(), trial);
    EXPECT_EQ(second->lease.attempt(), 2);

    const v1::Trial before = store_->GetTrial(trial);
    store::TrainingResult result;
    result.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.5)};
    result.artifacts = {testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 100)};
    EXPECT_THROW(store_->CompleteTrial("slow", first->lease.lease_id(), result),
                 FailedPrecondition);
    EXPECT_TRUE(MessageDifferencer::Equals(store_->GetTrial(trial), before));
    EXPECT_EQ(testing::QueryValue<std::string>(
                  dsn_, "SELECT lease_id::text FROM trials WHERE id = $1", trial),
              second->lease.lease_id());

    // The new holder finishes normally.
    EXPECT_EQ(store_->CompleteTrial("fast", second->lease.lease_id(), result), v1::TRIAL_TRAINED);
}

TEST_F(QueueTest, ALeaseThatHasNotExpiredIsNotReaped) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    store_->InsertTrials(job, testing::SomeTrials(1));
    const auto lease = store_->ClaimTrial("w", testing::Cpu(), std::chrono::minutes(10));
    ASSERT_TRUE(lease);
    EXPECT_TRUE(store_->ReapExpiredLeases().reaped.empty());
    EXPECT_EQ(store_->GetTrial(lease->lease.trial_id()).state(), v1::TRIAL_TRAINING);
}

TEST_F(QueueTest, RenewingExtendsTheLeaseForItsHolderOnly) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    store_->InsertTrials(job, testing::SomeTrials(1));
    const auto lease = store_->ClaimTrial("w", testing::Cpu(), milliseconds(1000));
    ASSERT_TRUE(lease);
    const store::LeaseRenewal renewed = store_->RenewLease(
        "w", lease->lease.lease_id(), std::chrono::minutes(10), store::LeaseKind::kTrain);
    EXPECT_EQ(renewed.action, v1::LEASE_ACTION_CONTINUE);
    ASSERT_TRUE(renewed.expires_at);
    EXPECT_GT(std::chrono::duration_cast<std::chrono::microseconds>(
                  renewed.expires_at->time_since_epoch())
                  .count(),
              TimeUtil::TimestampToMicroseconds(lease->lease.expires_at()));

    EXPECT_THROW(store_->RenewLease("intruder", lease->lease.lease_id()), FailedPrecondition);
    // A training lease is not renewed as a measurement's (an agent naming the worker).
    EXPECT_THROW(store_->RenewLease("w", lease->lease.lease_id(), std::chrono::minutes(10),
                                    store::LeaseKind::kMeasure),
                 FailedPrecondition);
    EXPECT_THROW(store_->RenewLease("w", "00000000-0000-4000-8000-000000000000"), NotFound);
    EXPECT_THROW(store_->RenewLease("w", "not-a-lease"), InvalidArgument);
    EXPECT_EQ(store_->ReportProgress("w", lease->lease.lease_id(), v1::TrialProgress()),
              v1::LEASE_ACTION_CONTINUE);
}

TEST_F(QueueTest, FailuresRetryUntilMaxAttemptsAndNonRetryableOnesFailAtOnce) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, true, 2));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);

    auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(store_->FailTrial("w", lease->lease.lease_id(), {"CUDA out of memory", true}),
              v1::TRIAL_PENDING);
    EXPECT_EQ(store_->GetTrial(trial).attempts(), 1);
    EXPECT_THAT(store_->GetTrial(trial).last_error(), HasSubstr("CUDA out of memory"));
    // Repeating the same failure is refused and changes nothing.
    EXPECT_THROW(store_->FailTrial("w", lease->lease.lease_id(), {"again", true}),
                 FailedPrecondition);
    EXPECT_EQ(store_->GetTrial(trial).attempts(), 1);

    lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->lease.attempt(), 2);
    EXPECT_EQ(store_->FailTrial("w", lease->lease.lease_id(), {"diverged", true}),
              v1::TRIAL_FAILED);
    EXPECT_THAT(store_->GetTrial(trial).last_error(), HasSubstr("attempt 2 of 2"));

    const std::string other = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->lease.trial_id(), other);
    EXPECT_EQ(store_->FailTrial("w", lease->lease.lease_id(), {"bad candidate", false}),
              v1::TRIAL_FAILED);
    EXPECT_EQ(store_->GetTrial(other).last_error(), "bad candidate");
}

TEST_F(QueueTest, WorkersGetOnlyTrialsOfDatasetsTheyHave) {
    const std::string mnist =
        NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, true, 3, "mnist", "nucleo-f446re"));
    const std::string trial = store_->InsertTrials(mnist, testing::SomeTrials(1)).at(0);
    EXPECT_FALSE(store_->ClaimTrial("w", testing::Cpu({"cifar10", "fashion-mnist"})));
    const auto lease = store_->ClaimTrial("w", testing::Cpu({"mnist"}));
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->lease.trial_id(), trial);
    EXPECT_EQ(lease->task.dataset().name(), "mnist");
    EXPECT_EQ(lease->task.constraints().max_sram_bytes(), 131072);
    EXPECT_EQ(lease->task.job_id(), mnist);
    EXPECT_EQ(lease->task.trial_number(), 1);
    EXPECT_TRUE(MessageDifferencer::Equals(lease->task.candidate(), testing::SomeCandidate(0)));
}

TEST_F(QueueTest, PendingTrialsOfStoppedJobsAreNotClaimed) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    store_->InsertTrials(job, testing::SomeTrials(3));
    store_->SetJobState(job, v1::JOB_COMPLETED, "budget reached");
    EXPECT_FALSE(store_->ClaimTrial("w", testing::Cpu()));
    EXPECT_EQ(store_->GetJob(job).trials().stale(), 3);
}

TEST_F(QueueTest, ATrialIsTrainedThenMeasuredOnABoardOfItsType) {
    const std::string job = NewJob(testing::Spec(
        {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_LATENCY_MS, v1::OBJECTIVE_SRAM_BYTES}, true));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);

    store::AgentRegistration agent;
    agent.agent_id = "lab-1";
    agent.hostname = "lab-host";
    agent.boards.push_back(testing::QemuBoard("lab-1/qemu-0"));
    agent.boards.push_back(testing::QemuBoard("lab-1/f746", "nucleo-f746zg"));
    store_->RegisterAgent(agent);
    store_->RegisterAgent(agent);  // idempotent
    EXPECT_EQ(store_->ListBoards().size(), 2u);

    // Nothing to measure before training.
    EXPECT_FALSE(store_->ClaimMeasurement("lab-1", "lab-1/qemu-0"));

    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    store::TrainingResult trained;
    trained.metrics = {testing::Metric("int8_accuracy", 0.91), testing::Metric("params", 12345)};
    trained.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.09)};
    trained.final_model = v1::Model();
    const v1::Artifact model = testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 5000, 1);
    trained.artifacts = {model, testing::MakeArtifact(v1::ARTIFACT_CHECKPOINT, 7000, 2)};
    EXPECT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), trained), v1::TRIAL_TRAINED);
    EXPECT_THROW(store_->CompleteTrial("w", lease->lease.lease_id(), trained), FailedPrecondition);

    // A board of another type gets nothing; one of the job's type gets the model.
    EXPECT_FALSE(store_->ClaimMeasurement("lab-1", "lab-1/f746"));
    const auto measuring = store_->ClaimMeasurement("lab-1", "lab-1/qemu-0");
    ASSERT_TRUE(measuring);
    EXPECT_EQ(measuring->lease.trial_id(), trial);
    EXPECT_EQ(measuring->lease.attempt(), 1);
    EXPECT_EQ(measuring->task.board_type(), "qemu-netduinoplus2");
    EXPECT_EQ(measuring->task.settings().timed_runs(), 10);
    EXPECT_EQ(measuring->task.model().data(), model.data());
    EXPECT_EQ(store_->GetTrial(trial).state(), v1::TRIAL_MEASURING);
    // The board is busy now.
    EXPECT_THROW(store_->ClaimMeasurement("lab-1", "lab-1/qemu-0"), FailedPrecondition);
    // A training completion cannot use a measurement lease, nor can a trainer's
    // heartbeat or progress renew it (and an agent's heartbeat renews it).
    EXPECT_THROW(store_->CompleteTrial("lab-1", measuring->lease.lease_id(), trained),
                 FailedPrecondition);
    EXPECT_THROW(store_->RenewLease("lab-1", measuring->lease.lease_id(), milliseconds(1000),
                                    store::LeaseKind::kTrain),
                 FailedPrecondition);
    EXPECT_THROW(store_->ReportProgress("lab-1", measuring->lease.lease_id(), v1::TrialProgress(),
                                        store::LeaseKind::kTrain),
                 FailedPrecondition);
    EXPECT_EQ(store_
                  ->RenewLease("lab-1", measuring->lease.lease_id(), milliseconds(60000),
                               store::LeaseKind::kMeasure)
                  .action,
              v1::LEASE_ACTION_CONTINUE);
    // The task names the job's dataset, whose validation split the agent checks outputs on.
    EXPECT_EQ(measuring->task.dataset().name(), "fashion-mnist");

    store::MeasurementResult measured;
    measured.measurement = testing::SomeMeasurement();
    measured.objectives = {
        testing::Objective(v1::OBJECTIVE_LATENCY_MS, 7.5, v1::METRIC_SOURCE_EMULATED),
        testing::Objective(v1::OBJECTIVE_SRAM_BYTES, 33072, v1::METRIC_SOURCE_EMULATED)};
    measured.firmware = testing::MakeArtifact(v1::ARTIFACT_FIRMWARE_ELF, 3000, 3);
    EXPECT_EQ(store_->CompleteMeasurement("lab-1", measuring->lease.lease_id(), measured),
              v1::TRIAL_COMPLETE);
    EXPECT_THROW(store_->CompleteMeasurement("lab-1", measuring->lease.lease_id(), measured),
                 FailedPrecondition);

    const v1::Trial t = store_->GetTrial(trial);
    EXPECT_EQ(t.state(), v1::TRIAL_COMPLETE);
    EXPECT_EQ(t.metrics_size(), 2);
    EXPECT_EQ(t.objectives_size(), 3);
    ASSERT_EQ(t.measurements_size(), 1);
    const v1::Measurement& m = t.measurements(0);
    EXPECT_EQ(m.board_id(), "lab-1/qemu-0");
    EXPECT_EQ(m.agent_id(), "lab-1");
    EXPECT_EQ(m.board_type(), "qemu-netduinoplus2");
    EXPECT_EQ(m.cycles(), 1234567u);
    EXPECT_EQ(m.latency_ms(), 7.5);
    EXPECT_EQ(m.energy_uj(), 120.25);
    EXPECT_EQ(m.source(), v1::METRIC_SOURCE_EMULATED);
    EXPECT_EQ(m.energy_source(), v1::METRIC_SOURCE_ESTIMATED);
    EXPECT_EQ(m.sram().stack_bytes(), 1024);
    EXPECT_EQ(m.flash().total_bytes(), 130100);
    EXPECT_EQ(m.provenance().toolchain(), "arm-none-eabi-gcc 12.2.1 -O2");
    EXPECT_EQ(m.provenance().clock_hz(), 168000000);
    EXPECT_EQ(m.latency_p10_ms(), 7.25);
    EXPECT_EQ(m.latency_p90_ms(), 8.0);
    EXPECT_EQ(m.outputs_checked(), 3);
    EXPECT_EQ(m.provenance().runtime_variant(), "cortex_m");
    EXPECT_EQ(t.artifacts_size(), 3);
    EXPECT_TRUE(t.on_front());  // the job's only complete trial

    // The board is free again and its utilisation shows one measurement.
    EXPECT_EQ(testing::QueryValue<int>(dsn_,
                                       "SELECT measurements_total FROM v_board_utilisation "
                                       "WHERE board_id = 'lab-1/qemu-0'"),
              1);
    EXPECT_TRUE(testing::QueryValue<bool>(dsn_,
                                          "SELECT measuring_trial_id IS NULL AND "
                                          "busy_seconds_24h > 0 FROM v_board_utilisation "
                                          "WHERE board_id = 'lab-1/qemu-0'"));
}

TEST_F(QueueTest, AMeasurementThatBreaksALimitKeepsItsFiguresAndEndsTheTrialInfeasible) {
    const std::string job = NewJob(testing::Spec(
        {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_LATENCY_MS, v1::OBJECTIVE_SRAM_BYTES}, true));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    store::AgentRegistration agent;
    agent.agent_id = "lab-2";
    agent.boards.push_back(testing::QemuBoard("lab-2/qemu-0"));
    store_->RegisterAgent(agent);
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(store_->JobOfLease(lease->lease.lease_id()).job_id(), job);
    store::TrainingResult trained;
    trained.metrics = {testing::Metric("int8_accuracy", 0.9)};
    trained.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.1)};
    trained.artifacts = {testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 5000, 1)};
    ASSERT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), trained), v1::TRIAL_TRAINED);
    // The ended training lease still names its job.
    EXPECT_EQ(store_->JobOfLease(lease->lease.lease_id()).job_id(), job);
    EXPECT_THROW(store_->JobOfLease("00000000-0000-4000-8000-000000000000"), NotFound);

    const auto measuring = store_->ClaimMeasurement("lab-2", "lab-2/qemu-0");
    ASSERT_TRUE(measuring);
    store::MeasurementResult measured;
    measured.measurement = testing::SomeMeasurement();
    measured.objectives = {
        testing::Objective(v1::OBJECTIVE_LATENCY_MS, 7.5, v1::METRIC_SOURCE_EMULATED),
        testing::Objective(v1::OBJECTIVE_SRAM_BYTES, 33072, v1::METRIC_SOURCE_EMULATED)};
    measured.infeasible_reason =
        "latency_ms 7.5 (emulated) exceeds spec.constraints.max_latency_ms (5)";
    EXPECT_EQ(store_->CompleteMeasurement("lab-2", measuring->lease.lease_id(), measured),
              v1::TRIAL_INFEASIBLE);
    const v1::Trial t = store_->GetTrial(trial);
    EXPECT_EQ(t.state(), v1::TRIAL_INFEASIBLE);
    EXPECT_EQ(t.measurements_size(), 1) << "the measurement is kept";
    EXPECT_EQ(t.objectives_size(), 3);
    EXPECT_FALSE(t.on_front());
    EXPECT_EQ(testing::QueryValue<std::string>(
                  dsn_, "SELECT state_reason FROM trials WHERE id = '" + trial + "'"),
              measured.infeasible_reason);
    EXPECT_EQ(testing::QueryValue<int>(
                  dsn_, "SELECT count(*) FROM v_pareto_front WHERE trial_id = '" + trial + "'"),
              0);
}

TEST_F(QueueTest, ALongFailureReasonIsCutOnACharacterAndStored) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    // 9,999 ASCII bytes, then two-byte characters across the 10,000-byte limit.
    std::string reason(9999, 'r');
    for (int i = 0; i < 100; ++i) reason += "\xc3\xa9";
    EXPECT_EQ(store_->FailTrial("w", lease->lease.lease_id(), {reason, false}), v1::TRIAL_FAILED);
    const std::string stored = store_->GetTrial(trial).last_error();
    EXPECT_LE(stored.size(), 10000u);
    EXPECT_EQ(stored.substr(0, 100), std::string(100, 'r'));
    EXPECT_NE(stored.find("[truncated]"), std::string::npos);
}

TEST_F(QueueTest, AJobThatSkipsMeasurementCompletesItsTrialsAfterTraining) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, /*measure=*/false));
    store_->InsertTrials(job, testing::SomeTrials(1));
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), {}), v1::TRIAL_COMPLETE);
}

TEST_F(QueueTest, BoardsOutOfServiceOrOfAnotherAgentCannotClaim) {
    store::AgentRegistration a;
    a.agent_id = "a";
    a.boards.push_back(testing::QemuBoard("a/0"));
    store_->RegisterAgent(a);
    store::AgentRegistration b;
    b.agent_id = "b";
    b.boards.push_back(testing::QemuBoard("b/0"));
    store_->RegisterAgent(b);

    EXPECT_THROW(store_->ClaimMeasurement("a", "b/0"), NotFound);
    EXPECT_THROW(store_->ClaimMeasurement("nobody", "a/0"), NotFound);
    store_->ReportBoardHealth("a", "a/0", v1::BOARD_HEALTH_MAINTENANCE, "rewiring");
    EXPECT_THROW(store_->ClaimMeasurement("a", "a/0"), FailedPrecondition);
    // Re-registering does not undo a person's MAINTENANCE.
    store_->RegisterAgent(a);
    EXPECT_THROW(store_->ClaimMeasurement("a", "a/0"), FailedPrecondition);
    store_->ReportBoardHealth("a", "a/0", v1::BOARD_HEALTH_GOOD, "fixed");
    EXPECT_FALSE(store_->ClaimMeasurement("a", "a/0"));  // allowed, nothing to do

    // A board the agent stops listing can no longer claim.
    a.boards.clear();
    store_->RegisterAgent(a);
    EXPECT_THROW(store_->ClaimMeasurement("a", "a/0"), FailedPrecondition);
}

TEST_F(QueueTest, BoardFaultsSpareTheTrialsAttemptsAndRetireTheBoard) {
    store::StoreOptions options = testing::OptionsFor(dsn_);
    options.board_failure_limit = 2;
    store::Store store(options);
    const std::string job =
        store.CreateJob("bob", testing::Spec({v1::OBJECTIVE_ERROR}, true, 2)).job_id();
    const std::string trial = store.InsertTrials(job, testing::SomeTrials(1)).at(0);
    store::AgentRegistration agent;
    agent.agent_id = "lab";
    agent.boards.push_back(testing::QemuBoard("lab/0"));
    store.RegisterAgent(agent);

    const auto lease = store.ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    store.CompleteTrial("w", lease->lease.lease_id(), {});
    for (int fault = 1; fault <= 2; ++fault) {
        const auto m = store.ClaimMeasurement("lab", "lab/0");
        ASSERT_TRUE(m) << "fault " << fault;
        store::Failure failure{"no response on UART", true, /*board_fault=*/true, false};
        EXPECT_EQ(store.FailMeasurement("lab", m->lease.lease_id(), failure), v1::TRIAL_TRAINED);
        EXPECT_EQ(store.GetTrial(trial).attempts(), 0);
    }
    const std::vector<v1::Board> boards = store.ListBoards();
    ASSERT_EQ(boards.size(), 1u);
    EXPECT_EQ(boards[0].health(), v1::BOARD_HEALTH_BAD);
    EXPECT_THROW(store.ClaimMeasurement("lab", "lab/0"), FailedPrecondition);
}

TEST_F(QueueTest, AModelThatDoesNotFitTheBoardIsInfeasible) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    store::AgentRegistration agent;
    agent.agent_id = "lab";
    agent.boards.push_back(testing::QemuBoard("lab/0"));
    store_->RegisterAgent(agent);
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    store_->CompleteTrial("w", lease->lease.lease_id(), {});
    const auto m = store_->ClaimMeasurement("lab", "lab/0");
    ASSERT_TRUE(m);
    EXPECT_EQ(store_->FailMeasurement("lab", m->lease.lease_id(),
                                      {"region FLASH overflowed", false, false, true}),
              v1::TRIAL_INFEASIBLE);
    EXPECT_EQ(store_->GetTrial(trial).last_error(), "region FLASH overflowed");
}

TEST_F(QueueTest, CancellingStopsLeasedTrialsThroughTheirHeartbeats) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    store_->InsertTrials(job, testing::SomeTrials(3));
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);

    const v1::Job cancelling = store_->CancelJob(job, "wrong dataset");
    EXPECT_EQ(cancelling.state(), v1::JOB_CANCELLING);
    EXPECT_EQ(cancelling.trials().stale(), 2);
    EXPECT_EQ(cancelling.trials().training(), 1);
    EXPECT_EQ(store_->CancelJob(job, "again").state(), v1::JOB_CANCELLING);
    EXPECT_FALSE(store_->ClaimTrial("w2", testing::Cpu()));

    const store::LeaseRenewal stop = store_->RenewLease("w", lease->lease.lease_id());
    EXPECT_EQ(stop.action, v1::LEASE_ACTION_STOP);
    EXPECT_THAT(stop.reason, HasSubstr("cancelling"));
    EXPECT_EQ(store_->GetTrial(lease->lease.trial_id()).state(), v1::TRIAL_STALE);
    EXPECT_THROW(store_->CompleteTrial("w", lease->lease.lease_id(), {}), FailedPrecondition);

    const store::ReapReport report = store_->ReapExpiredLeases();
    EXPECT_EQ(report.cancelled_jobs, std::vector<std::string>{job});
    const v1::Job cancelled = store_->GetJob(job);
    EXPECT_EQ(cancelled.state(), v1::JOB_CANCELLED);
    EXPECT_TRUE(cancelled.has_finished_at());
    EXPECT_THROW(store_->CancelJob(job, "once more"), FailedPrecondition);
}

TEST_F(QueueTest, AJobWithNothingLeasedIsCancelledAtOnce) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}));
    store_->InsertTrials(job, testing::SomeTrials(2));
    EXPECT_EQ(store_->CancelJob(job, "").state(), v1::JOB_CANCELLED);
    EXPECT_THROW(store_->InsertTrials(job, testing::SomeTrials(1)), FailedPrecondition);
}

TEST_F(QueueTest, AWarmStartGetsItsParentsCheckpoint) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, false));
    const std::string parent = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    auto lease = store_->ClaimTrial("w", testing::Cpu());
    store::TrainingResult result;
    result.artifacts = {testing::MakeArtifact(v1::ARTIFACT_CHECKPOINT, 4096, 9)};
    store_->CompleteTrial("w", lease->lease.lease_id(), result);

    store::NewTrial child;
    child.candidate = testing::SomeCandidate(7);
    child.parent_trial_id = parent;
    const std::string child_id = store_->InsertTrials(job, {child}).at(0);
    EXPECT_EQ(store_->GetTrial(child_id).parent_trial_id(), parent);
    EXPECT_EQ(store_->GetTrial(child_id).number(), 2);
    lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->task.trial_id(), child_id);
    ASSERT_TRUE(lease->task.has_parent_checkpoint());
    const store::StoredArtifact ckpt =
        store_->GetArtifact(lease->task.parent_checkpoint().artifact_id());
    EXPECT_EQ(ckpt.data, result.artifacts[0].data());
    EXPECT_EQ(ckpt.ref.sha256(), lease->task.parent_checkpoint().sha256());
    EXPECT_EQ(ckpt.ref.size_bytes(), 4096);
}

TEST_F(QueueTest, EveryStateChangeIsAnOrderedJobEvent) {
    const std::string job = NewJob(testing::Spec({v1::OBJECTIVE_ERROR}, false));
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    v1::TrialProgress progress;
    progress.set_phase("train");
    progress.set_epoch(1);
    progress.set_total_epochs(3);
    progress.set_loss(0.5);
    store_->ReportProgress("w", lease->lease.lease_id(), progress);
    store_->CompleteTrial("w", lease->lease.lease_id(), {});

    const std::vector<v1::JobEvent> events = store_->ReadJobEvents(job, 0);
    // Job created, job running, trial created, leased, progress, complete.
    ASSERT_EQ(events.size(), 6u);
    for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].event_id(), static_cast<int64_t>(i + 1));
        EXPECT_EQ(events[i].job_id(), job);
        EXPECT_TRUE(events[i].has_time());
    }
    EXPECT_EQ(events[0].job_state().to(), v1::JOB_PENDING);
    EXPECT_EQ(events[1].job_state().from(), v1::JOB_PENDING);
    EXPECT_EQ(events[1].job_state().to(), v1::JOB_RUNNING);
    EXPECT_EQ(events[2].trial_state().to(), v1::TRIAL_PENDING);
    EXPECT_EQ(events[2].trial_state().trial_id(), trial);
    EXPECT_EQ(events[3].trial_state().from(), v1::TRIAL_PENDING);
    EXPECT_EQ(events[3].trial_state().to(), v1::TRIAL_TRAINING);
    EXPECT_EQ(events[3].trial_state().number(), 1);
    EXPECT_EQ(events[4].progress().trial_id(), trial);
    EXPECT_EQ(events[4].progress().epoch(), 1);
    EXPECT_EQ(events[4].progress().loss(), 0.5);
    EXPECT_EQ(events[5].trial_state().to(), v1::TRIAL_COMPLETE);

    const std::vector<v1::JobEvent> later = store_->ReadJobEvents(job, 4);
    ASSERT_EQ(later.size(), 2u);
    EXPECT_EQ(later[0].event_id(), 5);
    EXPECT_EQ(store_->ReadJobEvents(job, 0, 2).size(), 2u);
    EXPECT_TRUE(store_->ReadJobEvents(job, 6).empty());

    v1::JobEvent front;
    front.mutable_front()->add_added_trial_ids(trial);
    front.mutable_front()->set_front_size(1);
    EXPECT_EQ(store_->AppendJobEvent(job, front), 7);
    store_->RecordHypervolume(job, {1, trial, 0.75, 1, {1.0, 200000.0}});
    const std::vector<v1::JobEvent> tail = store_->ReadJobEvents(job, 6);
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0].front().added_trial_ids(0), trial);
    EXPECT_EQ(tail[1].hypervolume().hypervolume(), 0.75);
    EXPECT_EQ(tail[1].hypervolume().completed_trials(), 1);
    EXPECT_EQ(store_->GetJob(job).hypervolume(), 0.75);
    EXPECT_EQ(store_->GetJob(job).front_size(), 1);
}

}  // namespace
}  // namespace hilnas
