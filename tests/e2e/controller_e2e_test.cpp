// A real hilnas-controller process on loopback, talked to by real gRPC
// clients and by the real hilnas command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using namespace std::chrono_literals;

// A controller started as a child process. Fails the test if it does not
// come up within a generous bound (a hang guard, not a speed assertion).
class RunningController {
  public:
    explicit RunningController(std::vector<std::string> extra = {}) {
        ProcessOptions options;
        options.argv = {testing::BuildPath("controller/hilnas-controller"),
                        "--listen",
                        "127.0.0.1:0",
                        "--port_file",
                        dir_ / "port",
                        "--database",
                        testing::FreshDatabase("ctl")};
        options.argv.insert(options.argv.end(), extra.begin(), extra.end());
        process_ = std::make_unique<Process>(Process::Start(options, dir_ / "log"));
        for (int i = 0; i < 3000 && port_ == 0; ++i) {
            std::ifstream in(dir_ / "port");
            if (!(in >> port_)) port_ = 0;
            if (port_ == 0 && !process_->Running()) break;
            if (port_ == 0) std::this_thread::sleep_for(10ms);
        }
        if (port_ == 0) ADD_FAILURE() << "controller did not start; log:\n" << Log();
    }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    Process& process() { return *process_; }
    std::string Log() const {
        std::ifstream in(dir_ / "log");
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

  private:
    testing::TempDir dir_;
    std::unique_ptr<Process> process_;
    int port_ = 0;
};

ProcessResult Hilnas(std::vector<std::string> args) {
    ProcessOptions options;
    options.argv = {testing::BuildPath("services/cli/hilnas")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.timeout = 60s;
    return RunProcess(options);
}

int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Controller, AnswersTheStandardHealthCheck) {
    RunningController controller;
    auto stub = grpc::health::v1::Health::NewStub(rpc::MakeChannel(controller.address()));
    for (const std::string service :
         {"", "hilnas.v1.SearchService", "hilnas.v1.WorkService", "hilnas.v1.FarmService"}) {
        grpc::health::v1::HealthCheckRequest request;
        request.set_service(service);
        grpc::health::v1::HealthCheckResponse response;
        auto context = rpc::MakeContext(10s);
        const grpc::Status status = stub->Check(context.get(), request, &response);
        ASSERT_TRUE(status.ok()) << "'" << service << "': " << status.error_message();
        EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
    }
    grpc::health::v1::HealthCheckRequest unknown;
    unknown.set_service("no.such.Service");
    grpc::health::v1::HealthCheckResponse response;
    auto context = rpc::MakeContext(10s);
    EXPECT_EQ(stub->Check(context.get(), unknown, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
}

TEST(Controller, ReflectionListsTheContract) {
    RunningController controller;
    auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
        rpc::MakeChannel(controller.address()));
    auto context = rpc::MakeContext(10s);
    auto stream = stub->ServerReflectionInfo(context.get());
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_list_services("");
    ASSERT_TRUE(stream->Write(request));
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse response;
    ASSERT_TRUE(stream->Read(&response));
    std::vector<std::string> names;
    for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
    EXPECT_THAT(names, IsSupersetOf({"hilnas.v1.SearchService", "hilnas.v1.WorkService",
                                     "hilnas.v1.FarmService", "grpc.health.v1.Health"}));
    EXPECT_TRUE(stream->Finish().ok());
}

TEST(Controller, AnswersFromTheDatabase) {
    RunningController controller;
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(controller.address()));
    v1::GetJobRequest request;
    request.set_job_id("00000000-0000-0000-0000-000000000001");
    v1::Job job;
    auto context = rpc::MakeContext(10s);
    EXPECT_EQ(stub->GetJob(context.get(), request, &job).error_code(), grpc::StatusCode::NOT_FOUND);
    v1::GetJobRequest empty;
    auto context2 = rpc::MakeContext(10s);
    const grpc::Status s = stub->GetJob(context2.get(), empty, &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "job_id: is required");
}

TEST(Controller, ShutsDownCleanlyOnSigterm) {
    RunningController controller;
    ::kill(controller.process().pid(), SIGTERM);
    const auto status = controller.process().WaitFor(60s);
    ASSERT_TRUE(status.has_value()) << "still running after SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << DescribeWaitStatus(*status);
    const std::string log = controller.Log();
    EXPECT_THAT(log, HasSubstr("SIGTERM"));
    EXPECT_THAT(log, HasSubstr("stopped"));
    EXPECT_THAT(log, HasSubstr("config: "));  // configuration logged at start
}

TEST(Controller, RefusesAPortAlreadyInUse) {
    RunningController first;
    ProcessOptions second;
    second.argv = {testing::BuildPath("controller/hilnas-controller"), "--listen", first.address(),
                   "--database", testing::FreshDatabase("ctl")};
    second.timeout = 60s;
    const ProcessResult r = RunProcess(second);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("cannot listen on '" + first.address() + "'"));
}

TEST(Controller, BadConfigurationIsOneLineNamingTheKey) {
    for (const auto& [args, expected] :
         std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--listen", "nonsense"}, "listen: must be host:port"},
             {{"--bogus", "1"}, "--bogus: unknown flag"},
             {{"--shutdown_grace", "soon"}, "--shutdown_grace: must be a duration"},
             {{"--tls.cert", "/tmp/cert.pem"}, "tls.key: tls.cert and tls.key must be given"},
             {{}, "database: is required"},
             {{"--database", "host=127.0.0.1", "--auth.user_tokens", "short"},
              "auth.user_tokens: tokens must be at least 16 characters"}}) {
        ProcessOptions options;
        options.argv = {testing::BuildPath("controller/hilnas-controller")};
        options.argv.insert(options.argv.end(), args.begin(), args.end());
        options.timeout = 60s;
        const ProcessResult r = RunProcess(options);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_THAT(r.err, HasSubstr(expected));
        EXPECT_EQ(Lines(r.err), 1) << r.err;
    }
}

TEST(Cli, PingsARunningController) {
    RunningController controller;
    const ProcessResult r = Hilnas({"ping", "--controller", controller.address()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr(controller.address() + " SERVING"));
}

TEST(Cli, PingAgainstNothingListeningIsOneReadableLine) {
    const int port = store::FreeLoopbackPort();  // bound and released: nothing listens
    const std::string address = "127.0.0.1:" + std::to_string(port);
    const ProcessResult r = Hilnas({"ping", "--controller", address, "--timeout", "5s"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("hilnas ping: controller " + address + " unreachable"));
    EXPECT_TRUE(r.out.empty());
}

TEST(Cli, VersionAndUsageErrors) {
    const ProcessResult v = Hilnas({"version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_THAT(v.out, ::testing::StartsWith("hilnas 0."));
    const ProcessResult unknown = Hilnas({"frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
    const ProcessResult bad_flag = Hilnas({"ping", "--controler", "x:1"});
    EXPECT_EQ(bad_flag.exit_code, 2);
    EXPECT_EQ(Lines(bad_flag.err), 1);
    EXPECT_THAT(bad_flag.err, HasSubstr("--controler: unknown flag"));
}

TEST(Cli, SubmitsAndFollowsAJob) {
    RunningController controller;
    const ProcessResult submit = Hilnas(
        {"submit", testing::SourcePath("examples/job.yaml"), "--controller", controller.address()});
    ASSERT_EQ(submit.exit_code, 0) << submit.err;
    const auto job = nlohmann::json::parse(submit.out);
    const std::string id = job.at("job_id");
    EXPECT_EQ(job.at("spec").at("board_type"), "qemu-netduinoplus2");
    EXPECT_EQ(job.at("spec").at("budget").at("max_trials"), 8);

    const ProcessResult shown = Hilnas({"job", id, "--controller", controller.address()});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(nlohmann::json::parse(shown.out).at("job_id"), id);

    const ProcessResult cancel = Hilnas({"cancel", id, "--controller", controller.address()});
    ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
    // Watching a cancelled job replays its events and ends.
    const ProcessResult watch = Hilnas({"watch", id, "--controller", controller.address()});
    ASSERT_EQ(watch.exit_code, 0) << watch.err;
    EXPECT_THAT(watch.out, HasSubstr("JOB_CANCELLED"));
    const ProcessResult table =
        Hilnas({"front", id, "--table", "--controller", controller.address()});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_THAT(table.out,
                ::testing::MatchesRegex(
                    "trial +ERROR +FLASH_BYTES +SRAM_BYTES +val_acc +test_acc +trial id\n.*"));
    EXPECT_THAT(table.out, HasSubstr("0 trials on the front"));

    testing::TempDir dir;
    const ProcessResult bad =
        Hilnas({"submit", dir.Write("bad.yaml", "search_space: {blocks: {min: 4, max: 2}}\n"),
                "--controller", controller.address()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(Lines(bad.err), 1) << bad.err;
    EXPECT_THAT(bad.err, HasSubstr("spec.search_space.blocks.max: must be >= min (4)"));
}

}  // namespace
}  // namespace hilnas
