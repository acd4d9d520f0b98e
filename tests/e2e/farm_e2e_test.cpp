// The loop closed: a Fashion-MNIST job through the real controller, the real
// trainer and the real board agent (an emulated STM32F405 under QEMU) on a
// private PostgreSQL. Every trial is trained, then measured on the board; its
// latency, energy, SRAM and flash objectives are the measurement's, and the
// job's Pareto front equals a brute-force front over the stored rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <pqxx/pqxx>

#include "farm_support.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;

using testing::Slurp;

TEST(Farm, EveryTrialIsMeasuredAndTheFrontIsTheMeasuredOne) {
    testing::TempDir dir;
    const std::string dsn = testing::FreshDatabase("farm");
    testing::ControllerProcess controller(dsn, dir.path().string(),
                                          {"--scheduler.tick", "200ms", "--long_poll_max", "1s"});
    const std::string& address = controller.address();
    Process trainer = testing::StartTrainer(address, "farm-e2e-trainer", dir / "trainer.log");
    Process agent = testing::StartAgent(address, "farm-e2e", dir / "cache", dir / "agent.log");
    auto logs = [&] {
        return Slurp(dir / "controller.log") + Slurp(dir / "trainer.log") +
               Slurp(dir / "agent.log");
    };

    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = testing::FarmJob("farm-e2e", 4);
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::Job job;
    auto sctx = rpc::MakeContext(30s);
    const grpc::Status submitted = stub->SubmitJob(sctx.get(), submit, &job);
    ASSERT_TRUE(submitted.ok()) << submitted.error_message();
    job = testing::FollowJob(*stub, job.job_id(), 600s);
    ASSERT_EQ(job.state(), v1::JOB_COMPLETED) << job.error() << "\n" << logs();

    v1::ListTrialsRequest list;
    list.set_job_id(job.job_id());
    v1::ListTrialsResponse trials;
    auto lctx = rpc::MakeContext(10s);
    ASSERT_TRUE(stub->ListTrials(lctx.get(), list, &trials).ok());
    int complete = 0;
    for (const v1::Trial& t : trials.trials()) {
        if (t.state() != v1::TRIAL_COMPLETE) {
            EXPECT_EQ(t.state(), v1::TRIAL_INFEASIBLE) << t.last_error();
            continue;
        }
        ++complete;
        ASSERT_EQ(t.measurements_size(), 1) << t.trial_id();
        const v1::Measurement& m = t.measurements(0);
        EXPECT_EQ(m.board_id(), "qemu-0");
        EXPECT_EQ(m.agent_id(), "farm-e2e");
        EXPECT_TRUE(m.outputs_match_host());
        EXPECT_EQ(m.outputs_checked(), 3);
        EXPECT_EQ(m.provenance().timed_runs(), 3);
        EXPECT_EQ(m.provenance().debugger(), "qemu");
        std::map<v1::Objective, v1::ObjectiveValue> o;
        for (const auto& v : t.objectives()) o[v.objective()] = v;
        // The objectives are the measurement's figures, with their sources.
        EXPECT_DOUBLE_EQ(o[v1::OBJECTIVE_LATENCY_MS].value(), m.latency_ms());
        EXPECT_EQ(o[v1::OBJECTIVE_LATENCY_MS].source(), v1::METRIC_SOURCE_EMULATED);
        EXPECT_DOUBLE_EQ(o[v1::OBJECTIVE_SRAM_BYTES].value(),
                         static_cast<double>(m.sram().total_bytes()));
        EXPECT_EQ(o[v1::OBJECTIVE_SRAM_BYTES].source(), v1::METRIC_SOURCE_EMULATED);
        EXPECT_DOUBLE_EQ(o[v1::OBJECTIVE_ENERGY_UJ].value(), m.energy_uj());
        EXPECT_EQ(o[v1::OBJECTIVE_ENERGY_UJ].source(), v1::METRIC_SOURCE_ESTIMATED);
        EXPECT_GT(m.energy_uj(), 0);
        EXPECT_EQ(o[v1::OBJECTIVE_ERROR].source(), v1::METRIC_SOURCE_EVALUATED);
        // The ELF that ran is stored beside the model.
        bool elf = false;
        for (const auto& a : t.artifacts()) elf |= a.kind() == v1::ARTIFACT_FIRMWARE_ELF;
        EXPECT_TRUE(elf);
    }
    EXPECT_GE(complete, 2) << logs();

    // The front, three ways: the RPC, the view, and brute force over the stored rows.
    testing::ExpectFrontIsBruteForce(dsn, *stub, job.job_id());

    pqxx::connection c(dsn);
    pqxx::work tx(c);
    // Every measured trial has its prediction beside its measurement.
    const pqxx::result pe = tx.exec_params(
        "SELECT predicted_sram_bytes, measured_sram_bytes, predicted_flash_bytes, "
        "measured_flash_bytes FROM v_prediction_error WHERE job_id = $1",
        job.job_id());
    EXPECT_EQ(static_cast<int>(pe.size()), complete);
    for (const auto& r : pe) {
        EXPECT_FALSE(r[0].is_null());
        EXPECT_GT(r[1].as<double>(), 0);
        EXPECT_FALSE(r[2].is_null());
        EXPECT_GT(r[3].as<double>(), 0);
    }
    tx.commit();

    testing::ExpectStopsCleanly(agent, logs);
    testing::ExpectStopsCleanly(trainer, logs);
}

}  // namespace
}  // namespace hilnas
