#include "farm_support.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "hilnas/rpc/channel.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::testing {

using namespace std::chrono_literals;

namespace {
// FarmObjectives' names in the trial_objectives table, in the same order.
const std::vector<std::string> kObjectiveNames = {"error", "sram_bytes", "latency_ms", "energy_uj"};
}  // namespace

Process StartTrainer(const std::string& address, const std::string& worker_id,
                     const std::string& log) {
    ProcessOptions o;
    o.argv = {BuildPath("trainer-worker/hilnas-trainer"),
              "--controller",
              address,
              "--worker_id",
              worker_id,
              "--threads",
              "1",
              "--lease-wait",
              "1s"};
    return Process::Start(o, log);
}

Process StartAgent(const std::string& address, const std::string& agent_id,
                   const std::string& cache_dir, const std::string& log,
                   const std::string& inventory) {
    ProcessOptions o;
    o.argv = {BuildPath("board-agent/hilnas-agent"),
              "--controller",
              address,
              "--cache_dir",
              cache_dir,
              "--lease_wait",
              "1s",
              "--agent_id",
              agent_id};
    if (!inventory.empty()) {
        o.argv.push_back("--inventory");
        o.argv.push_back(inventory);
    }
    return Process::Start(o, log);
}

void ExpectStopsCleanly(Process& p, const std::function<std::string()>& logs) {
    ::kill(p.pid(), SIGTERM);
    const auto status = p.WaitFor(120s);
    ASSERT_TRUE(status.has_value()) << logs();
    EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 0") << logs();
}

const std::vector<v1::Objective>& FarmObjectives() {
    static const std::vector<v1::Objective> objectives = {
        v1::OBJECTIVE_ERROR, v1::OBJECTIVE_SRAM_BYTES, v1::OBJECTIVE_LATENCY_MS,
        v1::OBJECTIVE_ENERGY_UJ};
    return objectives;
}

v1::JobSpec FarmJob(const std::string& name, int trials) {
    v1::JobSpec spec;
    spec.set_name(name);
    spec.set_board_type("qemu-netduinoplus2");
    for (v1::Objective o : FarmObjectives()) spec.add_objectives(o);
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(2);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(8);
    space->mutable_training()->mutable_epochs()->set_min(1);
    space->mutable_training()->mutable_epochs()->set_max(1);
    spec.mutable_budget()->set_max_trials(trials);
    spec.mutable_budget()->set_max_parallel_trials(2);
    spec.mutable_measurement()->set_timed_runs(3);
    spec.mutable_training()->set_train_limit(1500);
    spec.set_seed(7);
    return spec;
}

v1::Job FollowJob(v1::SearchService::Stub& stub, const std::string& job_id,
                  std::chrono::seconds guard) {
    v1::Job job;
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (std::chrono::steady_clock::now() < deadline) {
        v1::GetJobRequest get;
        get.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s);
        v1::Job now;
        // A controller that is restarting does not answer: keep the last state.
        if (stub.GetJob(ctx.get(), get, &now).ok()) job = now;
        if (job.state() == v1::JOB_COMPLETED || job.state() == v1::JOB_FAILED) break;
        std::this_thread::sleep_for(200ms);
    }
    return job;
}

std::vector<std::string> ExpectFrontIsBruteForce(const std::string& dsn,
                                                 v1::SearchService::Stub& stub,
                                                 const std::string& job_id) {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    const size_t m = kObjectiveNames.size();
    std::string names = "{";  // a text[] literal: the names are plain words
    for (const std::string& n : kObjectiveNames) names += (names.size() > 1 ? "," : "") + n;
    names += "}";
    std::map<std::string, std::vector<double>> points;
    for (const auto& r : tx.exec_params(
             "SELECT t.id::text, o.value FROM trials t JOIN trial_objectives o ON o.trial_id = "
             "t.id WHERE t.job_id = $1 AND t.state = 'complete' AND o.objective = ANY($2::text[]) "
             "ORDER BY 1, array_position($2::text[], o.objective)",
             job_id, names)) {
        points[r[0].as<std::string>()].push_back(r[1].as<double>());
    }
    std::set<std::string> brute;
    for (const auto& [id, a] : points) {
        EXPECT_EQ(a.size(), m) << "trial " << id << " lacks an objective";
        if (a.size() != m) continue;
        bool dominated = false;
        for (const auto& [other, b] : points) {
            if (other == id || b.size() != m) continue;
            bool no_worse = true, better = false;
            for (size_t i = 0; i < m; ++i) {
                no_worse = no_worse && b[i] <= a[i];
                better = better || b[i] < a[i];
            }
            dominated = dominated || (no_worse && better);
        }
        if (!dominated) brute.insert(id);
    }
    std::set<std::string> view;
    for (const auto& r :
         tx.exec_params("SELECT trial_id::text FROM v_pareto_front WHERE job_id = $1", job_id)) {
        view.insert(r[0].as<std::string>());
    }
    tx.commit();
    v1::GetParetoFrontRequest fr;
    fr.set_job_id(job_id);
    v1::ParetoFront front;
    auto ctx = rpc::MakeContext(10s);
    const grpc::Status got = stub.GetParetoFront(ctx.get(), fr, &front);
    EXPECT_TRUE(got.ok()) << got.error_message();
    std::set<std::string> rpc_front;
    for (const auto& t : front.trials()) rpc_front.insert(t.trial_id());
    EXPECT_FALSE(brute.empty());
    EXPECT_EQ(view, brute);
    EXPECT_EQ(rpc_front, brute);
    return {brute.begin(), brute.end()};
}

}  // namespace hilnas::testing
