#include "cli_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas::testing {

namespace {

using namespace std::chrono_literals;

constexpr char kAgentId[] = "cli-agent";
constexpr char kBoardId[] = "cli-agent/qemu-0";

// Trains: accuracy grows with capacity; the artifact is a real int8 model of
// the candidate (random weights), so the controller validates it and the
// command can export it.
void TrainOne(v1::WorkService::Stub& stub, const SmallJobOptions& o) {
    v1::LeaseTrialRequest req;
    req.set_worker_id("cli-worker");
    req.mutable_capabilities()->set_device(v1::DEVICE_CPU);
    req.mutable_capabilities()->set_cpu_threads(2);
    req.mutable_capabilities()->set_hostname("cli-test");
    req.mutable_wait()->set_seconds(1);
    v1::LeaseTrialResponse lease;
    auto ctx = rpc::MakeContext(10s, o.worker_token);
    if (!stub.LeaseTrial(ctx.get(), req, &lease).ok() || !lease.has_lease()) return;
    const v1::Model& model = lease.task().candidate().model();
    const auto cost = arch::ComputeCost(arch::Analyze(arch::ModelFromProto(model)));
    v1::CompleteTrialRequest done;
    done.set_worker_id("cli-worker");
    done.set_lease_id(lease.lease().lease_id());
    auto* m = done.add_metrics();
    m->set_name("int8_val_accuracy");
    m->set_value(0.5 + 0.45 * (1.0 - std::exp(-static_cast<double>(cost.params) / 3000.0)));
    m->set_source(v1::METRIC_SOURCE_EVALUATED);
    done.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
    done.mutable_model()->set_data(artifact::SerializeArtifact(
        artifact::RandomArtifact(arch::ModelFromProto(model), static_cast<uint64_t>(cost.params))));
    v1::CompleteTrialResponse resp;
    auto cctx = rpc::MakeContext(10s, o.worker_token);
    const grpc::Status s = stub.CompleteTrial(cctx.get(), done, &resp);
    // A restart may cut the call off; the lease then expires and the trial returns.
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// Measures on a fake emulated board: cycles from the MACs, SRAM and flash a
// little above the cost model's prediction, as a real ELF's are.
void MeasureOne(v1::FarmService::Stub& stub, const SmallJobOptions& o) {
    v1::LeaseMeasurementRequest req;
    req.set_agent_id(kAgentId);
    req.set_board_id(kBoardId);
    req.mutable_wait()->set_seconds(1);
    v1::LeaseMeasurementResponse lease;
    auto ctx = rpc::MakeContext(10s, o.agent_token);
    if (!stub.LeaseMeasurement(ctx.get(), req, &lease).ok() || !lease.has_lease()) return;
    const v1::Int8Model artifact = artifact::ParseArtifact(lease.task().model().data(), "task");
    const auto cost = arch::ComputeCost(arch::Analyze(arch::ModelFromProto(artifact.model())));
    v1::CompleteMeasurementRequest done;
    done.set_agent_id(kAgentId);
    done.set_lease_id(lease.lease().lease_id());
    auto* m = done.mutable_measurement();
    m->set_board_id(kBoardId);
    m->set_cycles(static_cast<uint64_t>(cost.macs * 3));
    m->set_latency_ms(static_cast<double>(cost.macs) * 3 / 168e3);
    m->set_source(v1::METRIC_SOURCE_EMULATED);
    m->mutable_sram()->set_total_bytes(cost.sram_bytes + 1024);
    m->mutable_flash()->set_total_bytes(cost.flash_bytes + 2048);
    v1::CompleteMeasurementResponse resp;
    auto cctx = rpc::MakeContext(10s, o.agent_token);
    const grpc::Status s = stub.CompleteMeasurement(cctx.get(), done, &resp);
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

}  // namespace

ProcessResult Hilnas(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                     const std::map<std::string, std::string>& env) {
    ProcessOptions options;
    options.argv = {BuildPath("services/cli/hilnas")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.timeout = timeout;
    options.env = env;
    return RunProcess(options);
}

int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

std::string SubmitSmallJob(const std::string& address, const SmallJobOptions& o) {
    auto search = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::SubmitJobRequest submit;
    v1::JobSpec& spec = *submit.mutable_spec();
    spec.set_name("cli");
    spec.mutable_dataset()->set_name("fashion-mnist");
    spec.set_board_type("qemu-netduinoplus2");
    for (int objective : o.objectives) spec.add_objectives(static_cast<v1::Objective>(objective));
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(2);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(16);
    spec.mutable_budget()->set_max_trials(o.trials);
    spec.mutable_budget()->set_max_parallel_trials(2);
    spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_RANDOM);
    spec.set_seed(11);
    v1::Job job;
    auto ctx = rpc::MakeContext(30s, o.token);
    const grpc::Status s = search->SubmitJob(ctx.get(), submit, &job);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return s.ok() ? job.job_id() : "";
}

bool CompleteJob(const std::string& address, const std::string& job_id, const SmallJobOptions& o) {
    auto channel = rpc::MakeChannel(address);
    auto search = v1::SearchService::NewStub(channel);
    auto work = v1::WorkService::NewStub(channel);
    auto farm = v1::FarmService::NewStub(channel);
    v1::RegisterAgentRequest reg;
    reg.set_agent_id(kAgentId);
    reg.set_hostname("cli-test");
    auto* board = reg.add_boards();
    board->set_board_id(kBoardId);
    board->set_board_type("qemu-netduinoplus2");
    board->set_debugger(v1::DEBUGGER_QEMU);
    v1::Job job;
    for (int i = 0; i < 900; ++i) {  // a hang guard, not a timing check
        // Registering again is idempotent; it also re-registers after a restart.
        v1::RegisterAgentResponse registered;
        auto rctx = rpc::MakeContext(10s, o.agent_token);
        if (!farm->RegisterAgent(rctx.get(), reg, &registered).ok()) {
            std::this_thread::sleep_for(200ms);  // e.g. the controller restarting
            continue;
        }
        TrainOne(*work, o);
        MeasureOne(*farm, o);
        v1::GetJobRequest get;
        get.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s, o.token);
        if (search->GetJob(ctx.get(), get, &job).ok() && job.state() == v1::JOB_COMPLETED) {
            return true;
        }
    }
    ADD_FAILURE() << "the job did not complete: " << job.DebugString();
    return false;
}

std::string RunSmallJob(const std::string& address, const SmallJobOptions& o) {
    const std::string job_id = SubmitSmallJob(address, o);
    if (job_id.empty() || !CompleteJob(address, job_id, o)) return "";
    return job_id;
}

}  // namespace hilnas::testing
