// Faults survived, end to end (issue #15): a small Fashion-MNIST job through
// the real controller, trainer, board agent (an emulated STM32F405 under
// QEMU) and PostgreSQL while, one after another, the trainer is SIGKILLed
// mid-trial, the agent is SIGKILLed mid-measurement, the board hangs (its
// QEMU stopped with SIGSTOP), and the controller is SIGKILLed and restarted.
// The job still finishes; no trial is lost or counted twice; the front is the
// brute-force front over the stored rows.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "farm_support.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;
using testing::Slurp;

struct Lease {
    std::string trial_id;
    std::string lease_id;
    std::string owner;
};

// The job's oldest live lease of a trial in `state` ("training" or "measuring").
std::optional<Lease> Leased(pqxx::connection& c, const std::string& job_id,
                            const std::string& state) {
    pqxx::nontransaction tx(c);
    const pqxx::result r = tx.exec_params(
        "SELECT id::text, lease_id::text, lease_owner FROM trials WHERE job_id = $1 AND state = $2 "
        "ORDER BY leased_at LIMIT 1",
        job_id, state);
    if (r.empty()) return std::nullopt;
    return Lease{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>()};
}

bool StillHeld(pqxx::connection& c, const std::string& lease_id) {
    pqxx::nontransaction tx(c);
    return !tx.exec_params("SELECT 1 FROM trials WHERE lease_id = $1", lease_id).empty();
}

struct Ending {
    std::string outcome;
    std::string reason;
};

// How the lease `lease_id` ended; nullopt while it is live.
std::optional<Ending> Ended(pqxx::connection& c, const std::string& lease_id) {
    pqxx::nontransaction tx(c);
    const pqxx::result r =
        tx.exec_params("SELECT outcome, reason FROM trial_leases WHERE lease_id = $1", lease_id);
    if (r.empty()) return std::nullopt;
    return Ending{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

// Polls `f` every `every` until it returns a value or `guard` passes.
template <class F>
auto Await(F f, std::chrono::milliseconds guard, std::chrono::milliseconds every = 100ms)
    -> decltype(f()) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    for (;;) {
        auto v = f();
        if (v || std::chrono::steady_clock::now() >= deadline) return v;
        std::this_thread::sleep_for(every);
    }
}

// A child of `parent` whose command name is `comm`, from /proc.
std::optional<pid_t> ChildNamed(pid_t parent, const std::string& comm) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "stat");
        std::string stat;
        std::getline(in, stat);
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        const size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close < open) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
        if (ppid == parent && stat.substr(open + 1, close - open - 1) == comm) {
            return static_cast<pid_t>(std::stoi(name));
        }
    }
    return std::nullopt;
}

void Kill(Process& p) {
    ::kill(p.pid(), SIGKILL);
    ASSERT_TRUE(p.WaitFor(30s).has_value());
}

TEST(FarmFaults, TheJobSurvivesKilledProcessesAndAHungBoard) {
    testing::TempDir dir;
    const std::string dsn = testing::FreshDatabase("farm_faults");
    // Short leases, so that a dead holder's lease expires within seconds.
    testing::ControllerProcess controller(dsn, dir.path().string(),
                                          {"--scheduler.tick", "200ms", "--long_poll_max", "1s",
                                           "--lease", "4s", "--heartbeat_interval", "1s"});
    const std::string& address = controller.address();
    // The board agent's inventory: one emulated board that counts as hung
    // when it has not answered for 8 s.
    const std::string inventory = dir / "boards.yaml";
    std::ofstream(inventory) << "boards:\n"
                                "  - id: qemu-0\n"
                                "    type: qemu-netduinoplus2\n"
                                "    debugger: qemu\n"
                                "    timeouts: {boot: 8s, command: 8s}\n";
    const std::string agent_id = "faults-agent";
    int trainers = 0, agents = 0;
    auto start_trainer = [&] {
        const std::string id = "faults-trainer-" + std::to_string(++trainers);
        return testing::StartTrainer(address, id, dir / (id + ".log"));
    };
    auto start_agent = [&] {
        ++agents;
        return testing::StartAgent(address, agent_id, dir / "cache",
                                   dir / ("agent-" + std::to_string(agents) + ".log"), inventory);
    };
    Process trainer = start_trainer();
    Process agent = start_agent();
    auto logs = [&] {
        std::string all = Slurp(dir / "controller.log");
        for (int i = 1; i <= trainers; ++i) {
            all += Slurp(dir / ("faults-trainer-" + std::to_string(i) + ".log"));
        }
        for (int i = 1; i <= agents; ++i)
            all += Slurp(dir / ("agent-" + std::to_string(i) + ".log"));
        return all;
    };

    constexpr int kTrials = 6;
    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = testing::FarmJob("farm-faults", kTrials);
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(address));
    v1::Job job;
    auto sctx = rpc::MakeContext(30s);
    const grpc::Status submitted = stub->SubmitJob(sctx.get(), submit, &job);
    ASSERT_TRUE(submitted.ok()) << submitted.error_message();
    const std::string job_id = job.job_id();
    pqxx::connection db(dsn);  // the test's polls (PostgreSQL stays up throughout)

    // 1. The trainer is SIGKILLed mid-trial. The kill counts when the trial
    // still held its lease afterwards (it was not just finishing).
    std::optional<Lease> trained_killed;
    for (int tries = 0; tries < 5 && !trained_killed; ++tries) {
        const auto l = Await([&] { return Leased(db, job_id, "training"); }, 180s);
        ASSERT_TRUE(l.has_value()) << "no trial was trained\n" << logs();
        std::this_thread::sleep_for(300ms);
        Kill(trainer);
        if (StillHeld(db, l->lease_id)) trained_killed = l;
        trainer = start_trainer();
    }
    ASSERT_TRUE(trained_killed.has_value()) << "the trainer was never killed mid-trial";
    // Its lease expires and the trial goes back to the queue, attempt counted.
    const auto train_end = Await([&] { return Ended(db, trained_killed->lease_id); }, 60s);
    ASSERT_TRUE(train_end.has_value()) << logs();
    EXPECT_EQ(train_end->outcome, "expired") << train_end->reason;
    EXPECT_NE(train_end->reason.find(trained_killed->owner), std::string::npos)
        << train_end->reason;

    // 2. The agent is SIGKILLed mid-measurement, and started again on the same host.
    std::optional<Lease> measured_killed;
    for (int tries = 0; tries < 5 && !measured_killed; ++tries) {
        const auto l = Await([&] { return Leased(db, job_id, "measuring"); }, 180s);
        ASSERT_TRUE(l.has_value()) << "no trial was measured\n" << logs();
        std::this_thread::sleep_for(300ms);
        Kill(agent);
        if (StillHeld(db, l->lease_id)) measured_killed = l;
        agent = start_agent();
    }
    ASSERT_TRUE(measured_killed.has_value()) << "the agent was never killed mid-measurement";
    const auto measure_end = Await([&] { return Ended(db, measured_killed->lease_id); }, 60s);
    ASSERT_TRUE(measure_end.has_value()) << logs();
    EXPECT_EQ(measure_end->outcome, "expired") << measure_end->reason;

    // 3. The board hangs: the QEMU of a measurement stops (SIGSTOP) and never
    // answers. The agent gives up on it after its timeout and says why.
    std::optional<Lease> hung;
    for (int tries = 0; tries < 5 && !hung; ++tries) {
        const auto l = Await([&] { return Leased(db, job_id, "measuring"); }, 180s);
        ASSERT_TRUE(l.has_value()) << "no trial was measured after the agent restarted\n" << logs();
        // The firmware is built first; the board runs once QEMU is up.
        int polls = 0;
        const auto qemu = Await(
            [&]() -> std::optional<pid_t> {
                if (auto pid = ChildNamed(agent.pid(), "qemu-system-arm")) return pid;
                if (++polls % 50 == 0 && !StillHeld(db, l->lease_id)) return pid_t{0};
                return std::nullopt;
            },
            120s, 2ms);
        ASSERT_TRUE(qemu.has_value()) << "no QEMU for the measurement\n" << logs();
        if (*qemu == 0) continue;  // the measurement ended before its QEMU was seen
        ::kill(*qemu, SIGSTOP);
        if (StillHeld(db, l->lease_id)) {
            hung = l;
        } else {
            ::kill(*qemu, SIGCONT);
        }
    }
    ASSERT_TRUE(hung.has_value()) << "the board never hung mid-measurement";
    const auto hang_end = Await([&] { return Ended(db, hung->lease_id); }, 90s);
    ASSERT_TRUE(hang_end.has_value()) << logs();
    // The measurement goes back to the queue, with the reason: a board fault
    // when the agent's health check then fails, else the trial's attempt (a
    // fresh QEMU passes the check, so a model that hangs its board cannot be
    // told from a board that hung once).
    EXPECT_EQ(hang_end->outcome, "retry") << hang_end->reason;
    EXPECT_NE(hang_end->reason.find("qemu"), std::string::npos) << hang_end->reason;

    // 4. The controller is SIGKILLed mid-job and started again.
    ASSERT_TRUE(Await(
        [&] {
            return Leased(db, job_id, "training").has_value() ||
                   Leased(db, job_id, "measuring").has_value();
        },
        120s))
        << "the job had nothing running\n"
        << logs();
    controller.KillAndRestart();

    // 5. The job finishes.
    job = testing::FollowJob(*stub, job_id, 480s);
    ASSERT_EQ(job.state(), v1::JOB_COMPLETED) << job.error() << "\n" << logs();

    pqxx::connection c(dsn);
    pqxx::work tx(c);
    // No trial lost: the budget's trials, numbered 1..N, each ended; the
    // faulted ones completed.
    const pqxx::result trials = tx.exec_params(
        "SELECT t.number, t.id::text, t.state, t.state_reason, t.attempts, "
        "(SELECT count(*) FROM measurements m WHERE m.trial_id = t.id) AS measurements, "
        "(SELECT count(*) FROM trial_leases l WHERE l.trial_id = t.id AND l.kind = 'train' AND "
        "l.outcome = 'completed') AS trainings, "
        "(SELECT count(*) FROM trial_leases l WHERE l.trial_id = t.id AND l.kind = 'measure' AND "
        "l.outcome = 'completed') AS measured, "
        "(SELECT count(*) FROM trial_objectives o WHERE o.trial_id = t.id) AS objectives, "
        "(SELECT count(DISTINCT objective) FROM trial_objectives o WHERE o.trial_id = t.id) "
        "AS distinct_objectives "
        "FROM trials t WHERE t.job_id = $1 ORDER BY t.number",
        job_id);
    ASSERT_EQ(static_cast<int>(trials.size()), kTrials);
    int complete = 0;
    std::set<std::string> completed;
    for (int i = 0; i < kTrials; ++i) {
        const pqxx::row& r = trials[i];
        EXPECT_EQ(r["number"].as<int>(), i + 1);
        const std::string state = r["state"].as<std::string>();
        const std::string id = r["id"].as<std::string>();
        if (state == "complete") {
            ++complete;
            completed.insert(id);
            // None counted twice: one training, one measurement, one row per objective.
            EXPECT_EQ(r["trainings"].as<int>(), 1) << id;
            EXPECT_EQ(r["measured"].as<int>(), 1) << id;
            EXPECT_EQ(r["measurements"].as<int>(), 1) << id;
            EXPECT_EQ(r["objectives"].as<int>(), r["distinct_objectives"].as<int>()) << id;
            EXPECT_GE(r["objectives"].as<int>(), static_cast<int>(testing::FarmObjectives().size()))
                << id;
        } else {
            EXPECT_EQ(state, "infeasible") << id << ": " << r["state_reason"].as<std::string>();
            EXPECT_FALSE(r["state_reason"].as<std::string>().empty()) << id;
            EXPECT_EQ(r["measurements"].as<int>(), 0) << id;
        }
    }
    for (const Lease* l : {&*trained_killed, &*measured_killed, &*hung}) {
        EXPECT_TRUE(completed.contains(l->trial_id)) << "faulted trial " << l->trial_id;
    }
    // The job's own counts agree with the rows.
    EXPECT_EQ(job.trials().complete(), complete);
    EXPECT_EQ(job.trials().complete() + job.trials().infeasible(), kTrials);
    EXPECT_EQ(job.trials().failed() + job.trials().stale(), 0);
    // The hypervolume series, one point per completion, never decreases.
    const pqxx::result hv = tx.exec_params(
        "SELECT completed_trials, hypervolume FROM job_hypervolume WHERE job_id = $1 "
        "ORDER BY completed_trials",
        job_id);
    ASSERT_FALSE(hv.empty());
    for (size_t i = 1; i < hv.size(); ++i) {
        EXPECT_GE(hv[i][1].as<double>(), hv[i - 1][1].as<double>())
            << "after " << hv[i][0].as<int>();
    }
    tx.commit();
    testing::ExpectFrontIsBruteForce(dsn, *stub, job_id);

    testing::ExpectStopsCleanly(agent, logs);
    testing::ExpectStopsCleanly(trainer, logs);
}

}  // namespace
}  // namespace hilnas
