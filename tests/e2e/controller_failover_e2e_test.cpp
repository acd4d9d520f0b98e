// Two real hilnas-controller processes on one PostgreSQL database, both with
// the scheduler enabled: exactly one leads (the advisory lock), which the
// health service tells; the leader is SIGKILLed mid-job; the other takes over
// and the job finishes, every trial created and completed exactly once.
// In-test trainer workers speak the real WorkService to whichever controller
// answers and report a deterministic function of each candidate (with a real,
// valid int8 artifact); the job skips board measurement.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;

// controller::kLeaderHealthName (controller/include/hilnas/controller/server.h).
constexpr char kLeaderHealthName[] = "hilnas.controller.SchedulerLeader";

const std::vector<std::string> kArgs = {
    "--scheduler.tick", "200ms", "--scheduler.election_interval", "200ms",
    "--lease",          "20s",   "--heartbeat_interval",          "2s",
    "--long_poll_max",  "1s"};

// grpc.health.v1.Health/Check for `service`, by hand (the health proto's
// generated code is not installed): 1 SERVING, 2 NOT_SERVING, -1 no answer.
int HealthStatus(const std::string& address, const std::string& service) {
    grpc::GenericStub stub(rpc::MakeChannel(address));
    auto ctx = rpc::MakeContext(5s);
    std::string body = "\x0a";  // field 1 (service), length-delimited
    body += static_cast<char>(service.size());
    body += service;
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                       std::lock_guard<std::mutex> lock(mu);
                       status = std::move(s);
                       done = true;
                       cv.notify_one();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    if (bytes.size() != 2 || bytes[0] != '\x08') return -1;  // field 1 (status), varint
    return bytes[1];
}

double FakeAccuracy(const arch::CostReport& cost) {
    return 0.5 + 0.45 * (1.0 - std::exp(-static_cast<double>(cost.params) / 3000.0));
}

// A trainer that asks each controller in turn, and moves on when one is gone.
void WorkerLoop(std::vector<std::string> addresses, const std::string& id,
                std::map<std::string, int>& trained, std::mutex& mu, std::atomic<bool>& stop) {
    size_t next = 0;
    while (!stop) {
        const std::string address = addresses[next++ % addresses.size()];
        auto stub = v1::WorkService::NewStub(rpc::MakeChannel(address));
        v1::LeaseTrialRequest req;
        req.set_worker_id(id);
        req.mutable_wait()->set_seconds(1);
        v1::LeaseTrialResponse lease;
        auto ctx = rpc::MakeContext(5s);
        if (!stub->LeaseTrial(ctx.get(), req, &lease).ok() || !lease.has_lease()) continue;
        const v1::Model model = lease.task().candidate().model();
        const auto cost = arch::ComputeCost(arch::Analyze(arch::ModelFromProto(model)));
        v1::CompleteTrialRequest done;
        done.set_worker_id(id);
        done.set_lease_id(lease.lease().lease_id());
        auto* m = done.add_metrics();
        m->set_name("int8_val_accuracy");
        m->set_value(FakeAccuracy(cost));
        m->set_source(v1::METRIC_SOURCE_EVALUATED);
        done.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
        done.mutable_model()->set_data(artifact::SerializeArtifact(artifact::RandomArtifact(
            arch::ModelFromProto(model), static_cast<uint64_t>(cost.params))));
        // Through whichever controller still answers; a refusal is final.
        for (int attempt = 0; attempt < 200 && !stop; ++attempt) {
            auto cstub =
                v1::WorkService::NewStub(rpc::MakeChannel(addresses[attempt % addresses.size()]));
            v1::CompleteTrialResponse resp;
            auto cctx = rpc::MakeContext(5s);
            const grpc::Status s = cstub->CompleteTrial(cctx.get(), done, &resp);
            if (s.ok()) {
                std::lock_guard lock(mu);
                trained[lease.lease().trial_id()]++;
                break;
            }
            if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
            std::this_thread::sleep_for(100ms);
        }
    }
}

v1::JobSpec SmallJob() {
    v1::JobSpec spec;
    spec.set_name("failover");
    spec.mutable_dataset()->set_name("fashion-mnist");
    spec.set_board_type("qemu-netduinoplus2");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    spec.mutable_measurement()->set_skip(true);
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(3);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(24);
    spec.mutable_budget()->set_max_trials(10);
    spec.mutable_budget()->set_max_parallel_trials(2);
    spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_MOBO);
    spec.mutable_optimizer()->set_warmup_trials(4);
    spec.mutable_optimizer()->set_candidate_pool(200);
    spec.set_seed(11);
    return spec;
}

v1::Job GetJob(const std::string& address, const std::string& id, grpc::Status* status) {
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::Job job;
    auto ctx = rpc::MakeContext(5s);
    *status = stub->GetJob(ctx.get(), req, &job);
    return job;
}

// Polls `done` every 100 ms for up to `limit`: a hang guard, not a timing check.
template <typename Fn>
bool WaitFor(Fn done, std::chrono::seconds limit = 120s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(100ms);
    }
    return true;
}

TEST(ControllerFailover, TheOtherReplicaTakesOverWhenTheLeaderIsKilledMidJob) {
    const std::string dsn = testing::FreshDatabase("failover");
    testing::TempDir dir_a, dir_b;
    testing::ControllerProcess a(dsn, dir_a.path().string(), kArgs);
    testing::ControllerProcess b(dsn, dir_b.path().string(), kArgs);
    testing::ControllerProcess* replicas[] = {&a, &b};

    // Exactly one leads, and says so through the health service.
    int leader = -1;
    ASSERT_TRUE(WaitFor([&] {
        const int sa = HealthStatus(a.address(), kLeaderHealthName);
        const int sb = HealthStatus(b.address(), kLeaderHealthName);
        EXPECT_FALSE(sa == 1 && sb == 1);
        if (sa == 1 && sb == 2) leader = 0;
        if (sa == 2 && sb == 1) leader = 1;
        return leader >= 0;
    })) << a.Log()
        << b.Log();
    testing::ControllerProcess& first = *replicas[leader];
    testing::ControllerProcess& second = *replicas[1 - leader];
    EXPECT_NE(first.Log().find("this replica is now the leader"), std::string::npos);
    // The standby reports NOT_SERVING from its start, before its first try
    // for the lock; wait for that try to have lost.
    EXPECT_TRUE(WaitFor([&] {
        return second.Log().find("another replica leads") != std::string::npos;
    })) << second.Log();

    // Submitted to the follower: any replica serves RPCs.
    auto search = v1::SearchService::NewStub(rpc::MakeChannel(second.address()));
    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = SmallJob();
    v1::Job job;
    {
        auto ctx = rpc::MakeContext(30s);
        const grpc::Status s = search->SubmitJob(ctx.get(), submit, &job);
        ASSERT_TRUE(s.ok()) << s.error_message();
    }
    std::map<std::string, int> trained;
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    const std::vector<std::string> addresses = {a.address(), b.address()};
    for (const char* id : {"worker-a", "worker-b"}) {
        workers.emplace_back(WorkerLoop, addresses, id, std::ref(trained), std::ref(mu),
                             std::ref(stop));
    }

    // Mid-job, the leader dies without a chance to tidy up.
    ASSERT_TRUE(WaitFor([&] {
        grpc::Status s;
        const v1::Job now = GetJob(second.address(), job.job_id(), &s);
        return s.ok() && now.trials().complete() >= 4;
    })) << first.Log();
    ::kill(first.process().pid(), SIGKILL);
    first.process().WaitFor(30s);

    ASSERT_TRUE(WaitFor([&] { return HealthStatus(second.address(), kLeaderHealthName) == 1; }))
        << second.Log();
    v1::Job now;
    const bool finished = WaitFor([&] {
        grpc::Status s;
        now = GetJob(second.address(), job.job_id(), &s);
        return s.ok() && now.state() == v1::JOB_COMPLETED;
    });
    stop = true;
    for (auto& t : workers) t.join();
    ASSERT_TRUE(finished) << now.DebugString() << second.Log();
    EXPECT_NE(second.Log().find("this replica is now the leader"), std::string::npos);

    // Every trial created once (numbers 1..10, distinct candidates) and trained once.
    pqxx::connection conn(dsn);
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params(
        "SELECT id::text, number, state, candidate -> 'model' ->> 'name' FROM trials "
        "WHERE job_id::text = $1 ORDER BY number",
        job.job_id());
    ASSERT_EQ(rows.size(), 10u);
    std::set<std::string> names;
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::string id = rows[i][0].as<std::string>();
        EXPECT_EQ(rows[i][1].as<int>(), static_cast<int>(i) + 1);
        EXPECT_EQ(rows[i][2].as<std::string>(), "complete") << id;
        names.insert(rows[i][3].as<std::string>());
        EXPECT_EQ(trained[id], 1) << id;
    }
    EXPECT_EQ(names.size(), 10u);
}

}  // namespace
}  // namespace hilnas
