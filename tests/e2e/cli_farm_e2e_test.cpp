// `hilnas boards` and `hilnas workers` (issue #15) against a real controller
// and PostgreSQL: an agent registers a board, measures one trial and holds
// another, a worker leases a third; both commands print what the SearchService says, in JSON
// and as a table, show a user only their own trials, and refuse worker and
// agent tokens.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <regex>
#include <sstream>

#include "cli_support.h"
#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::Hilnas;
using testing::Lines;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kWorker[] = "worker-token-0123456789";
constexpr char kAgent[] = "agent-token-0123456789";
constexpr char kAgentId[] = "farm-agent";
constexpr char kBoardId[] = "farm-agent/qemu-0";
constexpr char kWorkerId[] = "farm-worker";

std::vector<std::string> Tokens() {
    return {"--auth.user_tokens",   std::string("alice:") + kAlice + ",bob:" + kBob,
            "--auth.admin_tokens",  std::string("root:") + kAdmin,
            "--auth.worker_tokens", kWorker,
            "--auth.agent_tokens",  kAgent,
            "--scheduler.tick",     "200ms"};
}

// A table's cells, split on runs of two or more spaces (cells hold single spaces).
std::vector<std::vector<std::string>> Cells(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    const std::regex gap(" {2,}");
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> cells;
        for (std::sregex_token_iterator it(line.begin(), line.end(), gap, -1), end; it != end;
             ++it) {
            cells.push_back(*it);
        }
        rows.push_back(cells);
    }
    return rows;
}

// The cell under `column` in the row whose first cell is `key`.
std::string Cell(const std::vector<std::vector<std::string>>& table, const std::string& key,
                 const std::string& column) {
    if (table.empty()) return "<no table>";
    const auto& header = table[0];
    const auto at = std::find(header.begin(), header.end(), column);
    if (at == header.end()) return "<no column " + column + ">";
    const size_t c = static_cast<size_t>(at - header.begin());
    for (size_t r = 1; r < table.size(); ++r) {
        if (!table[r].empty() && table[r][0] == key) {
            return c < table[r].size() ? table[r][c] : "<short row>";
        }
    }
    return "<no row " + key + ">";
}

class CliFarm : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir;
        controller_ = new testing::ControllerProcess(testing::FreshDatabase("clifarm"),
                                                     dir_->path().string(), Tokens());
        testing::SmallJobOptions options;
        options.token = kAlice;
        job_id_ = testing::SubmitSmallJob(controller_->address(), options);
        if (!job_id_.empty()) Populate();
    }
    static void TearDownTestSuite() {
        delete controller_;
        delete dir_;
    }
    void SetUp() override {
        ASSERT_FALSE(job_id_.empty()) << controller_->Log();
        ASSERT_FALSE(measured_trial_.empty()) << controller_->Log();
        ASSERT_FALSE(held_trial_.empty()) << controller_->Log();
    }

    static std::string Address() { return controller_->address(); }

    // Leases a trial as the worker (waiting for the scheduler to add one).
    static v1::LeaseTrialResponse Lease(v1::WorkService::Stub& work) {
        v1::LeaseTrialRequest req;
        req.set_worker_id(kWorkerId);
        req.mutable_capabilities()->set_device(v1::DEVICE_CPU);
        req.mutable_capabilities()->set_cpu_threads(3);
        req.mutable_capabilities()->set_hostname("farm-host");
        req.mutable_wait()->set_seconds(2);
        v1::LeaseTrialResponse lease;
        for (int i = 0; i < 30 && !lease.has_lease(); ++i) {  // a hang guard
            auto ctx = rpc::MakeContext(10s, kWorker);
            EXPECT_TRUE(work.LeaseTrial(ctx.get(), req, &lease).ok());
        }
        return lease;
    }

    // Leases a trial and completes its training with a real int8 artifact
    // (random weights); returns the trial id.
    static std::string Train(v1::WorkService::Stub& work) {
        const v1::LeaseTrialResponse lease = Lease(work);
        EXPECT_TRUE(lease.has_lease());
        if (!lease.has_lease()) return "";
        const v1::Model& model = lease.task().candidate().model();
        const auto cost = arch::ComputeCost(arch::Analyze(arch::ModelFromProto(model)));
        v1::CompleteTrialRequest done;
        done.set_worker_id(kWorkerId);
        done.set_lease_id(lease.lease().lease_id());
        auto* m = done.add_metrics();
        m->set_name("int8_val_accuracy");
        m->set_value(0.8);
        m->set_source(v1::METRIC_SOURCE_EVALUATED);
        done.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
        done.mutable_model()->set_data(artifact::SerializeArtifact(artifact::RandomArtifact(
            arch::ModelFromProto(model), static_cast<uint64_t>(cost.params))));
        v1::CompleteTrialResponse completed;
        auto ctx = rpc::MakeContext(10s, kWorker);
        const grpc::Status s = work.CompleteTrial(ctx.get(), done, &completed);
        EXPECT_TRUE(s.ok()) << s.error_message();
        return s.ok() ? lease.lease().trial_id() : "";
    }

    // Leases the board's next measurement; with `complete`, reports it.
    static v1::LeaseMeasurementResponse Measure(v1::FarmService::Stub& farm, bool complete) {
        v1::LeaseMeasurementRequest req;
        req.set_agent_id(kAgentId);
        req.set_board_id(kBoardId);
        req.mutable_wait()->set_seconds(5);
        v1::LeaseMeasurementResponse lease;
        auto ctx = rpc::MakeContext(10s, kAgent);
        const grpc::Status s = farm.LeaseMeasurement(ctx.get(), req, &lease);
        EXPECT_TRUE(s.ok()) << s.error_message();
        if (!complete || !lease.has_lease()) return lease;
        v1::CompleteMeasurementRequest done;
        done.set_agent_id(kAgentId);
        done.set_lease_id(lease.lease().lease_id());
        auto* m = done.mutable_measurement();
        m->set_board_id(kBoardId);
        m->set_cycles(300000);
        m->set_latency_ms(300000 / 168e3);
        m->set_source(v1::METRIC_SOURCE_EMULATED);
        m->mutable_sram()->set_total_bytes(20000);
        m->mutable_flash()->set_total_bytes(60000);
        v1::CompleteMeasurementResponse resp;
        auto cctx = rpc::MakeContext(10s, kAgent);
        const grpc::Status c = farm.CompleteMeasurement(cctx.get(), done, &resp);
        EXPECT_TRUE(c.ok()) << c.error_message();
        return lease;
    }

    // The board has measured one trial and measures another now; the worker
    // holds a third.
    static void Populate() {
        auto channel = rpc::MakeChannel(Address());
        auto work = v1::WorkService::NewStub(channel);
        auto farm = v1::FarmService::NewStub(channel);
        v1::RegisterAgentRequest reg;
        reg.set_agent_id(kAgentId);
        reg.set_hostname("farm-lab");
        auto* board = reg.add_boards();
        board->set_board_id(kBoardId);
        board->set_board_type("qemu-netduinoplus2");
        board->set_debugger(v1::DEBUGGER_QEMU);
        board->set_health(v1::BOARD_HEALTH_GOOD);
        v1::RegisterAgentResponse registered;
        auto rctx = rpc::MakeContext(10s, kAgent);
        const grpc::Status r = farm->RegisterAgent(rctx.get(), reg, &registered);
        ASSERT_TRUE(r.ok()) << r.error_message();

        const std::string first = Train(*work);
        ASSERT_FALSE(first.empty());
        const v1::LeaseMeasurementResponse measured = Measure(*farm, true);
        ASSERT_TRUE(measured.has_lease());
        EXPECT_EQ(measured.lease().trial_id(), first);

        const std::string second = Train(*work);
        ASSERT_FALSE(second.empty());
        const v1::LeaseMeasurementResponse measuring = Measure(*farm, false);
        ASSERT_TRUE(measuring.has_lease());
        EXPECT_EQ(measuring.lease().trial_id(), second);
        measured_trial_ = second;

        const v1::LeaseTrialResponse held = Lease(*work);
        ASSERT_TRUE(held.has_lease());
        held_trial_ = held.lease().trial_id();
    }

    static v1::ListBoardsResponse Boards(const std::string& token, grpc::Status* status = nullptr) {
        auto stub = v1::SearchService::NewStub(rpc::MakeChannel(Address()));
        v1::ListBoardsResponse resp;
        auto ctx = rpc::MakeContext(10s, token);
        const grpc::Status s = stub->ListBoards(ctx.get(), v1::ListBoardsRequest(), &resp);
        if (status)
            *status = s;
        else
            EXPECT_TRUE(s.ok()) << s.error_message();
        return resp;
    }
    static v1::ListWorkersResponse Workers(const std::string& token,
                                           grpc::Status* status = nullptr) {
        auto stub = v1::SearchService::NewStub(rpc::MakeChannel(Address()));
        v1::ListWorkersResponse resp;
        auto ctx = rpc::MakeContext(10s, token);
        const grpc::Status s = stub->ListWorkers(ctx.get(), v1::ListWorkersRequest(), &resp);
        if (status)
            *status = s;
        else
            EXPECT_TRUE(s.ok()) << s.error_message();
        return resp;
    }

    static ProcessResult Run(const std::string& command, const std::string& token,
                             std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {command, "--controller", Address(), "--token", token};
        args.insert(args.end(), extra.begin(), extra.end());
        return Hilnas(args, 60s);
    }

    static testing::TempDir* dir_;
    static testing::ControllerProcess* controller_;
    static std::string job_id_;
    static std::string measured_trial_;
    static std::string held_trial_;
};

testing::TempDir* CliFarm::dir_ = nullptr;
testing::ControllerProcess* CliFarm::controller_ = nullptr;
std::string CliFarm::job_id_;
std::string CliFarm::measured_trial_;
std::string CliFarm::held_trial_;

TEST_F(CliFarm, BoardsJsonIsTheControllersAnswer) {
    const v1::ListBoardsResponse before = Boards(kAdmin);
    const ProcessResult r = Run("boards", kAdmin);
    const v1::ListBoardsResponse after = Boards(kAdmin);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Lines(r.out), 1);
    v1::ListBoardsResponse printed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &printed).ok()) << r.out;
    ASSERT_EQ(printed.boards_size(), after.boards_size());
    ASSERT_EQ(printed.boards_size(), 1);
    const v1::BoardStatus& b = printed.boards(0);
    const v1::BoardStatus& rpc = after.boards(0);
    EXPECT_EQ(b.board_id(), kBoardId);
    EXPECT_EQ(b.board_id(), rpc.board_id());
    EXPECT_EQ(b.board_type(), rpc.board_type());
    EXPECT_EQ(b.agent_id(), kAgentId);
    EXPECT_EQ(b.agent_hostname(), "farm-lab");
    EXPECT_EQ(b.health(), rpc.health());
    EXPECT_EQ(b.debugger(), v1::DEBUGGER_QEMU);
    EXPECT_TRUE(b.active());
    EXPECT_TRUE(b.measuring());
    EXPECT_EQ(b.measuring_trial_id(), measured_trial_);
    EXPECT_EQ(b.measuring_job_id(), job_id_);
    EXPECT_EQ(b.measurements_24h(), rpc.measurements_24h());
    EXPECT_EQ(b.measurements_24h(), 1);  // the first trial's
    EXPECT_EQ(b.measurements_total(), rpc.measurements_total());
    EXPECT_EQ(b.failed_leases_24h(), rpc.failed_leases_24h());
    // A lease in progress keeps the board busy: its use only grows between the calls.
    EXPECT_GT(before.boards(0).busy_seconds_24h(), 0.0);
    EXPECT_GE(b.busy_seconds_24h(), before.boards(0).busy_seconds_24h());
    EXPECT_LE(b.busy_seconds_24h(), rpc.busy_seconds_24h());
    EXPECT_NEAR(b.utilisation_24h(), b.busy_seconds_24h() / 86400.0, 1e-12);
    EXPECT_TRUE(b.has_last_seen());
    EXPECT_TRUE(printed.has_as_of());
}

TEST_F(CliFarm, BoardsTableShowsHealthUtilisationTheTrialAndLastSeen) {
    const v1::ListBoardsResponse before = Boards(kAdmin);
    const ProcessResult r = Run("boards", kAdmin, {"--format", "table"});
    const v1::ListBoardsResponse after = Boards(kAdmin);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto table = Cells(r.out);
    ASSERT_EQ(table.size(), 2u) << r.out;  // the header and one board
    EXPECT_THAT(table[0], ::testing::ElementsAre("BOARD", "TYPE", "AGENT", "HEALTH", "UTIL_24H",
                                                 "MEAS_24H", "FAILED_24H", "MEASURING", "SEEN"));
    const v1::BoardStatus& rpc = after.boards(0);
    std::string health = v1::BoardHealth_Name(rpc.health()).substr(strlen("BOARD_HEALTH_"));
    for (char& c : health) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(Cell(table, kBoardId, "TYPE"), rpc.board_type());
    EXPECT_EQ(Cell(table, kBoardId, "AGENT"), rpc.agent_id());
    EXPECT_EQ(Cell(table, kBoardId, "HEALTH"), health);
    EXPECT_EQ(Cell(table, kBoardId, "MEASURING"), measured_trial_);
    EXPECT_EQ(Cell(table, kBoardId, "MEAS_24H"), std::to_string(rpc.measurements_24h()));
    EXPECT_EQ(Cell(table, kBoardId, "FAILED_24H"), std::to_string(rpc.failed_leases_24h()));
    // Utilisation as a percentage with one decimal, between the two answers.
    const std::string util = Cell(table, kBoardId, "UTIL_24H");
    ASSERT_THAT(util, ::testing::MatchesRegex("[0-9]+\\.[0-9]%"));
    const double percent = std::stod(util);
    EXPECT_GE(percent, std::floor(1000 * before.boards(0).utilisation_24h()) / 10 - 0.05);
    EXPECT_LE(percent, std::ceil(1000 * rpc.utilisation_24h()) / 10 + 0.05);
    EXPECT_THAT(Cell(table, kBoardId, "SEEN"), ::testing::MatchesRegex("[0-9]+[smhd] ago"));
}

TEST_F(CliFarm, WorkersJsonAndTableShowTheWorkerAndItsLease) {
    const ProcessResult json = Run("workers", kAdmin);
    const v1::ListWorkersResponse rpc = Workers(kAdmin);
    ASSERT_EQ(json.exit_code, 0) << json.err;
    v1::ListWorkersResponse printed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &printed).ok()) << json.out;
    ASSERT_EQ(printed.workers_size(), rpc.workers_size());
    ASSERT_EQ(printed.workers_size(), 1);
    const v1::WorkerStatus& w = printed.workers(0);
    EXPECT_EQ(w.worker_id(), kWorkerId);
    EXPECT_EQ(w.hostname(), "farm-host");
    EXPECT_EQ(w.device(), v1::DEVICE_CPU);
    EXPECT_EQ(w.cpu_threads(), 3);
    EXPECT_EQ(w.datasets_size(), 0);
    EXPECT_TRUE(w.live());
    EXPECT_EQ(w.leases(), 1);
    ASSERT_EQ(w.trials_size(), 1);
    EXPECT_EQ(w.trials(0).trial_id(), held_trial_);
    EXPECT_EQ(w.trials(0).job_id(), job_id_);
    EXPECT_EQ(w.trials(0).trial_id(), rpc.workers(0).trials(0).trial_id());
    EXPECT_EQ(w.last_seen(), rpc.workers(0).last_seen());
    EXPECT_EQ(printed.live_window().seconds(), rpc.live_window().seconds());

    const ProcessResult table = Run("workers", kAdmin, {"--table"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    const auto cells = Cells(table.out);
    ASSERT_EQ(cells.size(), 2u) << table.out;
    EXPECT_THAT(cells[0], ::testing::ElementsAre("WORKER", "HOST", "DEVICE", "THREADS", "DATASETS",
                                                 "STATE", "SEEN", "TRIALS"));
    EXPECT_EQ(Cell(cells, kWorkerId, "HOST"), rpc.workers(0).hostname());
    EXPECT_EQ(Cell(cells, kWorkerId, "DEVICE"), "cpu");
    EXPECT_EQ(Cell(cells, kWorkerId, "THREADS"), std::to_string(rpc.workers(0).cpu_threads()));
    EXPECT_EQ(Cell(cells, kWorkerId, "DATASETS"), "any");
    EXPECT_EQ(Cell(cells, kWorkerId, "STATE"), "live");
    EXPECT_EQ(Cell(cells, kWorkerId, "TRIALS"), held_trial_);
    EXPECT_THAT(Cell(cells, kWorkerId, "SEEN"), ::testing::MatchesRegex("[0-9]+[smhd] ago"));
}

TEST_F(CliFarm, AUserSeesOnlyTheirOwnTrials) {
    // Alice owns the job: she sees both trials, as an admin does.
    const ProcessResult alice = Run("boards", kAlice, {"--format", "table"});
    ASSERT_EQ(alice.exit_code, 0) << alice.err;
    EXPECT_EQ(Cell(Cells(alice.out), kBoardId, "MEASURING"), measured_trial_);
    EXPECT_EQ(Workers(kAlice).workers(0).trials(0).trial_id(), held_trial_);

    // Bob sees the board busy and the worker leasing, not whose trials.
    const v1::ListBoardsResponse boards = Boards(kBob);
    ASSERT_EQ(boards.boards_size(), 1);
    EXPECT_TRUE(boards.boards(0).measuring());
    EXPECT_EQ(boards.boards(0).measuring_trial_id(), "");
    EXPECT_EQ(boards.boards(0).measuring_job_id(), "");
    const ProcessResult bob = Run("boards", kBob, {"--format", "table"});
    ASSERT_EQ(bob.exit_code, 0) << bob.err;
    EXPECT_EQ(Cell(Cells(bob.out), kBoardId, "MEASURING"), "busy");
    EXPECT_THAT(bob.out, ::testing::Not(HasSubstr(measured_trial_)));

    const v1::ListWorkersResponse workers = Workers(kBob);
    ASSERT_EQ(workers.workers_size(), 1);
    EXPECT_EQ(workers.workers(0).leases(), 1);
    EXPECT_EQ(workers.workers(0).trials_size(), 0);
    const ProcessResult bob_workers = Run("workers", kBob, {"--format", "table"});
    ASSERT_EQ(bob_workers.exit_code, 0) << bob_workers.err;
    EXPECT_EQ(Cell(Cells(bob_workers.out), kWorkerId, "TRIALS"), "+1 of other users");
    EXPECT_THAT(bob_workers.out, ::testing::Not(HasSubstr(held_trial_)));
}

TEST_F(CliFarm, WorkerAndAgentTokensArePermissionDenied) {
    for (const char* token : {kWorker, kAgent}) {
        SCOPED_TRACE(token);
        grpc::Status s;
        Boards(token, &s);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
        Workers(token, &s);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
        for (const char* command : {"boards", "workers"}) {
            const ProcessResult r = Run(command, token);
            EXPECT_NE(r.exit_code, 0);
            EXPECT_NE(r.exit_code, 70) << r.err;
            EXPECT_EQ(Lines(r.err), 1) << r.err;
            EXPECT_THAT(r.err, HasSubstr(std::string("hilnas ") + command + ": "));
            EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
            EXPECT_TRUE(r.out.empty()) << r.out;
        }
    }
    // No token at all: UNAUTHENTICATED.
    grpc::Status s;
    Boards("", &s);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    Workers("", &s);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace hilnas
