// hilnas-agent as a process: `measure` as a newcomer runs it, its one-line
// errors, and the service against a real controller and PostgreSQL: a board
// whose health check keeps failing is reported BAD after three failures and
// gets no leases; `hilnas-agent check` passing brings it back; SIGTERM ends
// the agent with status 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "hilnas/common/subprocess.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ProcessResult RunTool(std::vector<std::string> argv, std::chrono::seconds timeout = 600s) {
    ProcessOptions p;
    p.argv = std::move(argv);
    p.timeout = timeout;
    return RunProcess(p);
}

std::string Agent() { return testing::BuildPath("board-agent/hilnas-agent"); }

using testing::Slurp;

TEST(AgentCli, MeasureRunsOnTheDefaultEmulatedBoard) {
    testing::TempDir dir;
    const ProcessResult made =
        RunTool({testing::BuildPath("services/cli/hilnas"), "artifact", "random",
                 testing::SourcePath("examples/tiny.json"), "-o", dir / "tiny.hnm"});
    ASSERT_TRUE(made.ok()) << made.err;
    const ProcessResult r = RunTool({Agent(), "measure", "--artifact", dir / "tiny.hnm",
                                     "--cache_dir", dir / "cache", "--runs", "4"});
    ASSERT_TRUE(r.ok()) << r.Describe() << "\n" << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["board_id"], "qemu-0");
    EXPECT_EQ(j["board_type"], "qemu-netduinoplus2");
    EXPECT_EQ(j["source"], "METRIC_SOURCE_EMULATED");
    EXPECT_EQ(j["energy_source"], "METRIC_SOURCE_ESTIMATED");
    EXPECT_GT(j["latency_ms"].get<double>(), 0);
    EXPECT_GT(j["energy_uj"].get<double>(), 0);
    EXPECT_TRUE(j["outputs_match_host"].get<bool>());
    EXPECT_EQ(j["outputs_checked"], 3);
    EXPECT_EQ(j["check_inputs_source"], "fashion-mnist validation[0..2]");
    EXPECT_GT(j["sram"]["total_bytes"].get<int64_t>(), j["sram"]["arena_bytes"].get<int64_t>());
    EXPECT_GT(j["flash"]["total_bytes"].get<int64_t>(), 0);
    EXPECT_EQ(j["provenance"]["timed_runs"], 4);
    EXPECT_EQ(j["provenance"]["debugger"], "qemu");
    EXPECT_EQ(j["provenance"]["firmware_sha256"].get<std::string>().size(), 64u);
    EXPECT_FALSE(j["seconds"]["cache_hit"].get<bool>());
}

TEST(AgentCli, BadInputsGetOneReadableLineAndANonZeroExit) {
    testing::TempDir dir;
    const std::string junk = dir.Write("junk.hnm", "not an artifact");
    const std::string inventory = dir.Write("bad.yaml",
                                            "boards:\n  - {id: a, type: nucleo-f999, "
                                            "debugger: openocd}\n");
    struct Case {
        std::vector<std::string> args;
        std::string starts;
    };
    const std::vector<Case> cases = {
        {{"measure", "--artifact", junk}, "hilnas-agent: artifact: "},
        {{"measure", "--artifact", dir / "missing.hnm"}, "hilnas-agent: artifact: "},
        {{"measure"}, "hilnas-agent: artifact: is required"},
        {{"measure", "--artifact", junk, "--inventory", inventory}, "hilnas-agent: inventory: "},
        {{"measure", "--artifact", junk, "--inventory", dir / "none.yaml"},
         "hilnas-agent: inventory: no such file"},
        {{"measure", "--artifact", junk, "--board", "nope"},
         "hilnas-agent: board: no board 'nope' in the inventory (qemu-0)"},
        {{"measure", "--artifact", junk, "--runs", "0"}, "hilnas-agent: runs: must be in"},
        {{"measure", "--frobnicate"}, "hilnas-agent: "},
        {{"check", "--inventory", inventory}, "hilnas-agent: inventory: "},
        {{"serve"}, "hilnas-agent: controller: is required"},
        {{"dance"}, "hilnas-agent: unknown command 'dance'"},
    };
    for (const Case& c : cases) {
        std::vector<std::string> argv = {Agent()};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        const ProcessResult r = RunTool(argv, 60s);
        EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.err;
        EXPECT_THAT(r.err, StartsWith(c.starts)) << r.err;
        const auto first = r.err.find('\n');
        if (c.args[0] != "dance") {
            EXPECT_EQ(first, r.err.size() - 1) << "one line: " << r.err;
        }
    }
}

// A controller on a private database.
struct Stack {
    testing::TempDir dir;
    std::string dsn = testing::FreshDatabase("agent");
    testing::ControllerProcess controller{dsn, dir.path().string(), {"--long_poll_max", "1s"}};
    const std::string& address = controller.address();

    // (health, health_reason) of a board, or empty when it is not registered.
    std::pair<std::string, std::string> Health(const std::string& board) {
        pqxx::connection c(dsn);
        pqxx::work tx(c);
        const pqxx::result r =
            tx.exec_params("SELECT health, health_reason FROM boards WHERE id = $1", board);
        if (r.empty()) return {};
        return {r[0][0].as<std::string>(), r[0][1].as<std::string>()};
    }
};

TEST(AgentService, ABoardFailingItsHealthCheckThreeTimesIsBadUntilCheckPasses) {
    Stack s;
    // The emulator of this board cannot start: every health check fails.
    const std::string broken =
        s.dir.Write("broken.yaml",
                    "agent_id: lab-e2e\nboards:\n  - {id: qemu-x, type: "
                    "qemu-netduinoplus2, debugger: qemu, qemu: /bin/false}\n");
    ProcessOptions p;
    p.argv = {Agent(),       "--controller",  s.address,      "--inventory", broken,
              "--cache_dir", s.dir / "cache", "--lease_wait", "1s"};
    Process agent = Process::Start(p, s.dir / "agent.log");
    std::pair<std::string, std::string> health;
    for (int i = 0; i < 600 && health.first != "bad"; ++i) {  // hang guard: 60 s
        std::this_thread::sleep_for(100ms);
        health = s.Health("qemu-x");
    }
    ASSERT_EQ(health.first, "bad") << Slurp(s.dir / "agent.log");
    EXPECT_THAT(health.second, HasSubstr("3 failures in a row"));
    EXPECT_THAT(health.second, HasSubstr("health check failed (board)"));
    const std::string log = Slurp(s.dir / "agent.log");
    EXPECT_THAT(log, HasSubstr("(3 in a row)"));
    EXPECT_THAT(log, ::testing::Not(HasSubstr("(4 in a row)"))) << "no checks after BAD";

    // SIGTERM: the agent stops and exits 0.
    ::kill(agent.pid(), SIGTERM);
    const auto status = agent.WaitFor(60s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 0") << Slurp(s.dir / "agent.log");
    EXPECT_EQ(s.Health("qemu-x").first, "bad") << "stopping does not clear BAD";

    // The emulator fixed: `check` passes, reports it, and the board is GOOD again.
    const std::string fixed = s.dir.Write(
        "fixed.yaml",
        "agent_id: lab-e2e\nboards:\n  - {id: qemu-x, type: qemu-netduinoplus2, debugger: qemu}\n");
    const ProcessResult check = RunTool({Agent(), "check", "--inventory", fixed, "--controller",
                                         s.address, "--cache_dir", s.dir / "cache"});
    ASSERT_TRUE(check.ok()) << check.Describe() << "\n" << check.err;
    const nlohmann::json j = nlohmann::json::parse(check.out);
    EXPECT_EQ(j["board_id"], "qemu-x");
    EXPECT_EQ(j["health"], "good");
    EXPECT_THAT(j["reason"].get<std::string>(), HasSubstr("outputs match"));
    health = s.Health("qemu-x");
    EXPECT_EQ(health.first, "good");
    EXPECT_THAT(health.second, HasSubstr("hilnas-agent check: health check passed"));

    // `check` on a broken board says so, and exits 1.
    const ProcessResult bad =
        RunTool({Agent(), "check", "--inventory", broken, "--cache_dir", s.dir / "cache"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(nlohmann::json::parse(bad.out)["health"], "bad");
}

}  // namespace
}  // namespace hilnas
