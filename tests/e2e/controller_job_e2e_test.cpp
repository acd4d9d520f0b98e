// A whole job through a real hilnas-controller on loopback and a private
// PostgreSQL: in-test trainer workers and a board agent speak the real
// WorkService and FarmService protocols and report a deterministic function
// of each candidate (with a real, valid int8 artifact). The controller is
// killed mid-job and restarted on the same database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr char kUserToken[] = "user-token-0123456789";
constexpr char kWorkerToken[] = "worker-token-0123456789";
constexpr char kAgentToken[] = "agent-token-0123456789";

class Controller {
  public:
    Controller(std::string dsn, int port) : dsn_(std::move(dsn)), port_(port) { Start(); }
    void Start() {
        std::remove((dir_ / "port").c_str());
        ProcessOptions p;
        p.argv = {testing::BuildPath("controller/hilnas-controller"),
                  "--database",
                  dsn_,
                  "--listen",
                  "127.0.0.1:" + std::to_string(port_),
                  "--port_file",
                  dir_ / "port",
                  "--scheduler.tick",
                  "200ms",
                  "--lease",
                  "20s",
                  "--heartbeat_interval",
                  "2s",
                  "--long_poll_max",
                  "2s",
                  "--auth.user_tokens",
                  kUserToken,
                  "--auth.worker_tokens",
                  kWorkerToken,
                  "--auth.agent_tokens",
                  kAgentToken};
        process_ = std::make_unique<Process>(Process::Start(p, dir_ / "log"));
        for (int i = 0; i < 6000; ++i) {
            std::ifstream in(dir_ / "port");
            int port = 0;
            if (in >> port && port == port_) return;
            if (!process_->Running()) break;
            std::this_thread::sleep_for(10ms);
        }
        ADD_FAILURE() << "controller did not start:\n" << Log();
    }
    void Kill() { ::kill(process_->pid(), SIGKILL), process_->WaitFor(30s); }
    std::string Log() const {
        std::ifstream in(dir_ / "log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  private:
    testing::TempDir dir_;
    std::string dsn_;
    int port_;
    std::unique_ptr<Process> process_;
};

// The deterministic "training": accuracy grows with capacity; the artifact is
// a real int8 model of the candidate (random weights), so the controller's
// validation runs on it.
double FakeAccuracy(const arch::CostReport& cost) {
    return 0.5 + 0.45 * (1.0 - std::exp(-static_cast<double>(cost.params) / 3000.0));
}

struct Ledger {
    std::mutex mu;
    std::map<std::string, int> trained;   // trial -> successful CompleteTrial calls
    std::map<std::string, int> measured;  // trial -> successful CompleteMeasurement calls
};

void WorkerLoop(const std::string& address, const std::string& id, Ledger& ledger,
                std::atomic<bool>& stop) {
    auto stub = v1::WorkService::NewStub(rpc::MakeChannel(address));
    while (!stop) {
        v1::LeaseTrialRequest req;
        req.set_worker_id(id);
        req.mutable_wait()->set_seconds(1);
        v1::LeaseTrialResponse lease;
        auto ctx = rpc::MakeContext(10s, kWorkerToken);
        if (!stub->LeaseTrial(ctx.get(), req, &lease).ok()) {  // e.g. the controller restarting
            std::this_thread::sleep_for(200ms);
            continue;
        }
        if (!lease.has_lease()) continue;
        const v1::Model model = lease.task().candidate().model();
        const auto graph = arch::Analyze(arch::ModelFromProto(model));
        const auto cost = arch::ComputeCost(graph);
        v1::LeaseHeartbeatRequest hb;
        hb.set_holder_id(id);
        hb.set_lease_id(lease.lease().lease_id());
        v1::LeaseHeartbeatResponse hb_resp;
        auto hctx = rpc::MakeContext(10s, kWorkerToken);
        stub->Heartbeat(hctx.get(), hb, &hb_resp);

        v1::CompleteTrialRequest done;
        done.set_worker_id(id);
        done.set_lease_id(lease.lease().lease_id());
        auto* m = done.add_metrics();
        m->set_name("int8_val_accuracy");  // what the search selects on
        m->set_value(FakeAccuracy(cost));
        m->set_source(v1::METRIC_SOURCE_EVALUATED);
        done.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
        done.mutable_model()->set_data(artifact::SerializeArtifact(artifact::RandomArtifact(
            arch::ModelFromProto(model), static_cast<uint64_t>(cost.params))));
        // Retry through a restart; a refusal (the lease was reaped) is final.
        for (int attempt = 0; attempt < 100 && !stop; ++attempt) {
            v1::CompleteTrialResponse resp;
            auto cctx = rpc::MakeContext(10s, kWorkerToken);
            const grpc::Status s = stub->CompleteTrial(cctx.get(), done, &resp);
            if (s.ok()) {
                std::lock_guard lock(ledger.mu);
                ledger.trained[lease.lease().trial_id()]++;
                break;
            }
            if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
            std::this_thread::sleep_for(200ms);
        }
    }
}

void AgentLoop(const std::string& address, Ledger& ledger, std::atomic<bool>& stop) {
    auto stub = v1::FarmService::NewStub(rpc::MakeChannel(address));
    v1::RegisterAgentRequest reg;
    reg.set_agent_id("agent-1");
    reg.set_hostname("test");
    auto* board = reg.add_boards();
    board->set_board_id("agent-1/qemu-0");
    board->set_board_type("qemu-netduinoplus2");
    board->set_debugger(v1::DEBUGGER_QEMU);
    bool registered = false;
    while (!stop) {
        if (!registered) {
            v1::RegisterAgentResponse r;
            auto ctx = rpc::MakeContext(10s, kAgentToken);
            registered = stub->RegisterAgent(ctx.get(), reg, &r).ok();
            if (!registered) {
                std::this_thread::sleep_for(200ms);
                continue;
            }
        }
        v1::LeaseMeasurementRequest req;
        req.set_agent_id("agent-1");
        req.set_board_id("agent-1/qemu-0");
        req.mutable_wait()->set_seconds(1);
        v1::LeaseMeasurementResponse lease;
        auto ctx = rpc::MakeContext(10s, kAgentToken);
        if (!stub->LeaseMeasurement(ctx.get(), req, &lease).ok()) {
            std::this_thread::sleep_for(200ms);
            continue;
        }
        if (!lease.has_lease()) continue;
        const v1::Int8Model artifact = artifact::ParseArtifact(lease.task().model().data(), "task");
        const auto cost = arch::ComputeCost(arch::Analyze(arch::ModelFromProto(artifact.model())));
        v1::CompleteMeasurementRequest done;
        done.set_agent_id("agent-1");
        done.set_lease_id(lease.lease().lease_id());
        auto* m = done.mutable_measurement();
        m->set_board_id("agent-1/qemu-0");
        m->set_cycles(static_cast<uint64_t>(cost.macs * 3));
        m->set_latency_ms(static_cast<double>(cost.macs) * 3 / 168e3);
        m->set_source(v1::METRIC_SOURCE_EMULATED);
        m->mutable_sram()->set_total_bytes(cost.arena_bytes + 9000);
        m->mutable_flash()->set_total_bytes(cost.flash_bytes);
        for (int attempt = 0; attempt < 100 && !stop; ++attempt) {
            v1::CompleteMeasurementResponse resp;
            auto cctx = rpc::MakeContext(10s, kAgentToken);
            const grpc::Status s = stub->CompleteMeasurement(cctx.get(), done, &resp);
            if (s.ok()) {
                std::lock_guard lock(ledger.mu);
                ledger.measured[lease.lease().trial_id()]++;
                break;
            }
            if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
            std::this_thread::sleep_for(200ms);
        }
    }
}

v1::JobSpec SmallJob() {
    v1::JobSpec spec;
    spec.set_name("e2e");
    spec.mutable_dataset()->set_name("fashion-mnist");
    spec.set_board_type("qemu-netduinoplus2");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.add_objectives(v1::OBJECTIVE_LATENCY_MS);
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(3);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(24);
    spec.mutable_budget()->set_max_trials(12);
    spec.mutable_budget()->set_max_parallel_trials(3);
    spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_MOBO);
    spec.mutable_optimizer()->set_warmup_trials(4);
    spec.mutable_optimizer()->set_candidate_pool(200);
    spec.set_seed(7);
    return spec;
}

v1::Job GetJob(v1::SearchService::Stub& stub, const std::string& id, grpc::Status* status) {
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::Job job;
    auto ctx = rpc::MakeContext(10s, kUserToken);
    *status = stub.GetJob(ctx.get(), req, &job);
    return job;
}

TEST(ControllerJob, RunsAWholeJobAcrossARestartWithEveryTrialCompletedOnce) {
    const std::string dsn = testing::FreshDatabase("job");
    const int port = store::FreeLoopbackPort();
    Controller controller(dsn, port);
    auto search = v1::SearchService::NewStub(rpc::MakeChannel(controller.address()));

    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = SmallJob();
    submit.set_request_id("e2e-1");
    v1::Job job;
    {
        auto ctx = rpc::MakeContext(30s, kUserToken);
        const grpc::Status s = search->SubmitJob(ctx.get(), submit, &job);
        ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << controller.Log();
    }
    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    threads.emplace_back(WorkerLoop, controller.address(), "worker-a", std::ref(ledger),
                         std::ref(stop));
    threads.emplace_back(WorkerLoop, controller.address(), "worker-b", std::ref(ledger),
                         std::ref(stop));
    threads.emplace_back(AgentLoop, controller.address(), std::ref(ledger), std::ref(stop));

    bool restarted = false;
    v1::Job now;
    for (int i = 0; i < 900; ++i) {  // at most 3 minutes: a hang guard, not a timing check: a hang
                                     // guard, not a timing check
        grpc::Status s;
        now = GetJob(*search, job.job_id(), &s);
        if (s.ok() && now.state() == v1::JOB_COMPLETED) break;
        if (s.ok() && !restarted && now.trials().complete() >= 5) {
            controller.Kill();  // SIGKILL: no chance to tidy up
            controller.Start();
            restarted = true;
        }
        std::this_thread::sleep_for(200ms);
    }
    stop = true;
    for (auto& t : threads) t.join();
    ASSERT_TRUE(restarted) << now.DebugString() << controller.Log();
    ASSERT_EQ(now.state(), v1::JOB_COMPLETED) << now.DebugString() << controller.Log();

    // Every trial completed, each trained and measured exactly once.
    pqxx::connection conn(dsn);
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params(
        "SELECT id::text, state FROM trials WHERE job_id::text = $1 ORDER BY number", job.job_id());
    ASSERT_EQ(rows.size(), 12u);
    for (const auto& row : rows) {
        const std::string id = row[0].as<std::string>();
        EXPECT_EQ(row[1].as<std::string>(), "complete") << id;
        EXPECT_EQ(ledger.trained[id], 1) << id;
        EXPECT_EQ(ledger.measured[id], 1) << id;
    }
    EXPECT_EQ(ledger.trained.size(), 12u);

    // The hypervolume series: one reference point throughout (fixed at
    // submission), and it never decreases, across the controller's restart.
    const auto series = tx.exec_params(
        "SELECT hypervolume, reference_point::text FROM job_hypervolume WHERE job_id::text = $1 "
        "ORDER BY completed_trials",
        job.job_id());
    ASSERT_GE(series.size(), 2u);
    for (size_t i = 1; i < series.size(); ++i) {
        EXPECT_GE(series[i][0].as<double>(), series[i - 1][0].as<double>()) << "row " << i;
        EXPECT_EQ(series[i][1].as<std::string>(), series[0][1].as<std::string>());
    }
    EXPECT_GT(series[series.size() - 1][0].as<double>(), 0.0);
    EXPECT_LE(series[series.size() - 1][0].as<double>(), 1.0);

    // The dashboards' front is the API's front.
    v1::GetParetoFrontRequest freq;
    freq.set_job_id(job.job_id());
    v1::ParetoFront front;
    auto fctx = rpc::MakeContext(10s, kUserToken);
    ASSERT_TRUE(search->GetParetoFront(fctx.get(), freq, &front).ok());
    std::set<std::string> api;
    for (const auto& t : front.trials()) api.insert(t.trial_id());
    std::set<std::string> view;
    for (const auto& row : tx.exec_params(
             "SELECT trial_id::text FROM v_pareto_front WHERE job_id::text = $1", job.job_id())) {
        view.insert(row[0].as<std::string>());
    }
    EXPECT_FALSE(api.empty());
    EXPECT_EQ(api, view);
    EXPECT_GT(front.hypervolume(), 0.0);
}

TEST(ControllerJob, RolesAndSpecErrorsAreEnforced) {
    const std::string dsn = testing::FreshDatabase("roles");
    Controller controller(dsn, store::FreeLoopbackPort());
    auto search = v1::SearchService::NewStub(rpc::MakeChannel(controller.address()));
    auto work = v1::WorkService::NewStub(rpc::MakeChannel(controller.address()));

    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = SmallJob();
    v1::Job job;
    {
        auto ctx = rpc::MakeContext(10s, kWorkerToken);  // a worker cannot submit
        EXPECT_EQ(search->SubmitJob(ctx.get(), submit, &job).error_code(),
                  grpc::StatusCode::PERMISSION_DENIED);
    }
    {
        auto ctx = rpc::MakeContext(10s, "not-a-token-at-all-xx");
        EXPECT_EQ(search->SubmitJob(ctx.get(), submit, &job).error_code(),
                  grpc::StatusCode::UNAUTHENTICATED);
    }
    {
        auto ctx = rpc::MakeContext(10s);
        EXPECT_EQ(search->SubmitJob(ctx.get(), submit, &job).error_code(),
                  grpc::StatusCode::UNAUTHENTICATED);
    }
    {
        v1::CompleteTrialRequest done;  // a user cannot complete trials
        done.set_worker_id("w");
        done.set_lease_id("l");
        v1::CompleteTrialResponse resp;
        auto ctx = rpc::MakeContext(10s, kUserToken);
        EXPECT_EQ(work->CompleteTrial(ctx.get(), done, &resp).error_code(),
                  grpc::StatusCode::PERMISSION_DENIED);
    }
    {
        v1::SubmitJobRequest bad = submit;
        bad.mutable_spec()->mutable_search_space()->mutable_blocks()->set_min(3);
        bad.mutable_spec()->mutable_search_space()->mutable_blocks()->set_max(1);
        auto ctx = rpc::MakeContext(10s, kUserToken);
        const grpc::Status s = search->SubmitJob(ctx.get(), bad, &job);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(s.error_message(), "spec.search_space.blocks.max: must be >= min (3)");
    }
    {
        v1::SubmitJobRequest bad = submit;
        bad.mutable_spec()->set_board_type("arduino-uno");
        auto ctx = rpc::MakeContext(10s, kUserToken);
        const grpc::Status s = search->SubmitJob(ctx.get(), bad, &job);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_THAT(s.error_message(),
                    HasSubstr("spec.board_type: unknown board type 'arduino-uno'"));
    }
    {
        v1::GetJobRequest get;
        get.set_job_id("00000000-0000-0000-0000-000000000000");
        auto ctx = rpc::MakeContext(10s, kUserToken);
        EXPECT_EQ(search->GetJob(ctx.get(), get, &job).error_code(), grpc::StatusCode::NOT_FOUND);
    }
    {
        // Free text is bounded: a 10 MB cancel reason is refused, not stored whole.
        v1::CancelJobRequest cancel;
        cancel.set_job_id("00000000-0000-4000-8000-000000000000");
        cancel.set_reason(std::string(10 << 20, 'r'));
        auto ctx = rpc::MakeContext(10s, kUserToken);
        const grpc::Status s = search->CancelJob(ctx.get(), cancel, &job);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(s.error_message(), "reason: must be at most 1000 bytes");
    }
    {
        v1::ListJobsRequest list;  // an unknown state filters nothing in: it is refused
        list.set_state(static_cast<v1::JobState>(99));
        v1::ListJobsResponse jobs;
        auto ctx = rpc::MakeContext(10s, kUserToken);
        const grpc::Status s = search->ListJobs(ctx.get(), list, &jobs);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_EQ(s.error_message(), "state: unknown value 99");
    }
    {
        // An agent cannot register a board type the catalogue does not know.
        auto farm = v1::FarmService::NewStub(rpc::MakeChannel(controller.address()));
        v1::RegisterAgentRequest reg;
        reg.set_agent_id("agent-x");
        auto* board = reg.add_boards();
        board->set_board_id("agent-x/uno");
        board->set_board_type("arduino-uno");
        board->set_debugger(v1::DEBUGGER_OPENOCD);
        v1::RegisterAgentResponse r;
        auto ctx = rpc::MakeContext(10s, kAgentToken);
        const grpc::Status s = farm->RegisterAgent(ctx.get(), reg, &r);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
        EXPECT_THAT(s.error_message(),
                    HasSubstr("boards[0].board_type: unknown board type 'arduino-uno'"));
    }
}

// A job whose dataset no live worker serves says so (issue: the search
// optimises what it reports, "Datasets").
TEST(ControllerJob, SaysWhenNoLiveWorkerServesItsDataset) {
    const std::string dsn = testing::FreshDatabase("waiting");
    Controller controller(dsn, store::FreeLoopbackPort());
    auto search = v1::SearchService::NewStub(rpc::MakeChannel(controller.address()));
    auto work = v1::WorkService::NewStub(rpc::MakeChannel(controller.address()));

    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = SmallJob();
    submit.mutable_spec()->mutable_dataset()->set_name("mnist");
    v1::Job job;
    {
        auto ctx = rpc::MakeContext(10s, kUserToken);
        ASSERT_TRUE(search->SubmitJob(ctx.get(), submit, &job).ok()) << controller.Log();
    }
    grpc::Status status;
    for (int i = 0; i < 300 && job.trials().pending() == 0; ++i) {
        std::this_thread::sleep_for(50ms);
        job = GetJob(*search, job.job_id(), &status);
        ASSERT_TRUE(status.ok()) << status.error_message();
    }
    ASSERT_GT(job.trials().pending(), 0) << controller.Log();
    EXPECT_THAT(job.waiting_reason(), HasSubstr("no live trainer worker (none seen in the last"));

    // A worker with only Fashion-MNIST polls: it gets nothing, and the job names the gap.
    auto lease = [&](const std::string& id, const std::string& dataset) {
        v1::LeaseTrialRequest req;
        req.set_worker_id(id);
        req.mutable_capabilities()->add_datasets(dataset);
        v1::LeaseTrialResponse resp;
        auto ctx = rpc::MakeContext(10s, kWorkerToken);
        EXPECT_TRUE(work->LeaseTrial(ctx.get(), req, &resp).ok());
        return resp.has_lease();
    };
    EXPECT_FALSE(lease("fashion-only", "fashion-mnist"));
    job = GetJob(*search, job.job_id(), &status);
    EXPECT_EQ(job.waiting_reason(),
              "no live trainer worker serves dataset 'mnist' (1 live, serving: fashion-mnist)");

    // One that has MNIST takes a trial; the job no longer waits.
    EXPECT_TRUE(lease("has-mnist", "mnist"));
    job = GetJob(*search, job.job_id(), &status);
    EXPECT_EQ(job.waiting_reason(), "");
}

}  // namespace
}  // namespace hilnas
