// The loop closed: a Fashion-MNIST job through the real controller, the real
// trainer and the real board agent (an emulated STM32F405 under QEMU) on a
// private PostgreSQL. Every trial is trained, then measured on the board; its
// latency, energy, SRAM and flash objectives are the measurement's, and the
// job's Pareto front equals a brute-force front over the stored rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

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
    ProcessOptions tr;
    tr.argv = {testing::BuildPath("trainer-worker/hilnas-trainer"),
               "--controller",
               address,
               "--threads",
               "1",
               "--lease-wait",
               "1s"};
    Process trainer = Process::Start(tr, dir / "trainer.log");
    ProcessOptions ag;
    ag.argv = {testing::BuildPath("board-agent/hilnas-agent"),
               "--controller",
               address,
               "--cache_dir",
               dir / "cache",
               "--lease_wait",
               "1s",
               "--agent_id",
               "farm-e2e"};
    Process agent = Process::Start(ag, dir / "agent.log");
    auto logs = [&] {
        return Slurp(dir / "controller.log") + Slurp(dir / "trainer.log") +
               Slurp(dir / "agent.log");
    };

    v1::SubmitJobRequest submit;
    v1::JobSpec& spec = *submit.mutable_spec();
    spec.set_name("farm-e2e");
    spec.set_board_type("qemu-netduinoplus2");
    for (auto o : {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_SRAM_BYTES, v1::OBJECTIVE_LATENCY_MS,
                   v1::OBJECTIVE_ENERGY_UJ}) {
        spec.add_objectives(o);
    }
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(2);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(8);
    space->mutable_training()->mutable_epochs()->set_min(1);
    space->mutable_training()->mutable_epochs()->set_max(1);
    spec.mutable_budget()->set_max_trials(4);
    spec.mutable_budget()->set_max_parallel_trials(2);
    spec.mutable_measurement()->set_timed_runs(3);
    spec.mutable_training()->set_train_limit(1500);
    spec.set_seed(7);
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::Job job;
    auto sctx = rpc::MakeContext(30s);
    const grpc::Status submitted = stub->SubmitJob(sctx.get(), submit, &job);
    ASSERT_TRUE(submitted.ok()) << submitted.error_message();
    for (int i = 0; i < 3000 && job.state() != v1::JOB_COMPLETED &&  // hang guard: 10 min
                    job.state() != v1::JOB_FAILED;
         ++i) {
        std::this_thread::sleep_for(200ms);
        v1::GetJobRequest get;
        get.set_job_id(job.job_id());
        auto ctx = rpc::MakeContext(10s);
        stub->GetJob(ctx.get(), get, &job);
    }
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
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    std::map<std::string, std::vector<double>> points;
    for (const auto& r : tx.exec_params(
             "SELECT t.id::text, o.objective, o.value FROM trials t JOIN trial_objectives o "
             "ON o.trial_id = t.id WHERE t.job_id = $1 AND t.state = 'complete' AND o.objective "
             "IN ('error', 'sram_bytes', 'latency_ms', 'energy_uj') ORDER BY 1, "
             "array_position(ARRAY['error', 'sram_bytes', 'latency_ms', 'energy_uj'], "
             "o.objective)",
             job.job_id())) {
        points[r[0].as<std::string>()].push_back(r[2].as<double>());
    }
    std::set<std::string> brute;
    for (const auto& [id, a] : points) {
        if (a.size() != 4) continue;
        bool dominated = false;
        for (const auto& [other, b] : points) {
            if (other == id || b.size() != 4) continue;
            bool no_worse = true, better = false;
            for (size_t i = 0; i < 4; ++i) {
                no_worse = no_worse && b[i] <= a[i];
                better = better || b[i] < a[i];
            }
            dominated = dominated || (no_worse && better);
        }
        if (!dominated) brute.insert(id);
    }
    std::set<std::string> view;
    for (const auto& r : tx.exec_params(
             "SELECT trial_id::text FROM v_pareto_front WHERE job_id = $1", job.job_id())) {
        view.insert(r[0].as<std::string>());
    }
    v1::GetParetoFrontRequest fr;
    fr.set_job_id(job.job_id());
    v1::ParetoFront front;
    auto fctx = rpc::MakeContext(10s);
    ASSERT_TRUE(stub->GetParetoFront(fctx.get(), fr, &front).ok());
    std::set<std::string> rpc_front;
    for (const auto& t : front.trials()) rpc_front.insert(t.trial_id());
    EXPECT_FALSE(brute.empty());
    EXPECT_EQ(view, brute);
    EXPECT_EQ(rpc_front, brute);

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

    for (Process* p : {&agent, &trainer}) {
        ::kill(p->pid(), SIGTERM);
        const auto status = p->WaitFor(120s);
        ASSERT_TRUE(status.has_value());
        EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 0") << logs();
    }
}

}  // namespace
}  // namespace hilnas
