// The controller's defences, through a real hilnas-controller on loopback and
// a private PostgreSQL: owners enforced (users see their own jobs, admins see
// all), authentication before the request body is parsed, and TLS files that
// are wrong said to be wrong at start-up.
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <memory>
#include <thread>

#include "hilnas/common/subprocess.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/farm_service.grpc.pb.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kBob[] = "bob-token-0123456789ab";
constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kWorker[] = "worker-token-0123456789";
constexpr char kAgent[] = "agent-token-0123456789";

std::vector<std::string> TokenArgs() {
    return {"--auth.user_tokens",   std::string("alice:") + kAlice + ",bob:" + kBob,
            "--auth.admin_tokens",  std::string("root:") + kAdmin,
            "--auth.worker_tokens", kWorker,
            "--auth.agent_tokens",  kAgent};
}

v1::JobSpec SmallJob() {
    v1::JobSpec spec;
    spec.set_name("owned");
    spec.mutable_dataset()->set_name("fashion-mnist");
    spec.set_board_type("qemu-netduinoplus2");
    spec.add_objectives(v1::OBJECTIVE_ERROR);
    spec.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
    auto* space = spec.mutable_search_space();
    space->mutable_blocks()->set_min(1);
    space->mutable_blocks()->set_max(2);
    space->mutable_channels()->set_min(4);
    space->mutable_channels()->set_max(8);
    spec.mutable_budget()->set_max_trials(4);
    spec.mutable_budget()->set_max_parallel_trials(2);
    spec.mutable_optimizer()->set_kind(v1::OPTIMIZER_RANDOM);
    return spec;
}

class Client {
  public:
    explicit Client(const std::string& address)
        : stub_(v1::SearchService::NewStub(rpc::MakeChannel(address))) {}

    grpc::Status Get(const std::string& token, const std::string& job_id, v1::Job* job) {
        v1::GetJobRequest req;
        req.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->GetJob(ctx.get(), req, job);
    }
    grpc::Status List(const std::string& token, const std::string& owner,
                      v1::ListJobsResponse* jobs) {
        v1::ListJobsRequest req;
        req.set_owner(owner);
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->ListJobs(ctx.get(), req, jobs);
    }
    grpc::Status Cancel(const std::string& token, const std::string& job_id) {
        v1::CancelJobRequest req;
        req.set_job_id(job_id);
        v1::Job job;
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->CancelJob(ctx.get(), req, &job);
    }
    grpc::Status Trials(const std::string& token, const std::string& job_id,
                        v1::ListTrialsResponse* trials) {
        v1::ListTrialsRequest req;
        req.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->ListTrials(ctx.get(), req, trials);
    }
    grpc::Status Trial(const std::string& token, const std::string& trial_id) {
        v1::GetTrialRequest req;
        req.set_trial_id(trial_id);
        v1::Trial trial;
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->GetTrial(ctx.get(), req, &trial);
    }
    grpc::Status Front(const std::string& token, const std::string& job_id) {
        v1::GetParetoFrontRequest req;
        req.set_job_id(job_id);
        v1::ParetoFront front;
        auto ctx = rpc::MakeContext(10s, token);
        return stub_->GetParetoFront(ctx.get(), req, &front);
    }
    grpc::Status Watch(const std::string& token, const std::string& job_id) {
        v1::WatchJobRequest req;
        req.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s, token);
        auto reader = stub_->WatchJob(ctx.get(), req);
        v1::JobEvent event;
        int events = 0;
        while (reader->Read(&event)) ++events;
        const grpc::Status s = reader->Finish();
        return s.ok() || events == 0 ? s : grpc::Status(grpc::StatusCode::OK, "events");
    }
    grpc::Status Artifact(const std::string& token, const std::string& trial_id) {
        v1::GetArtifactRequest req;
        req.set_trial_id(trial_id);
        req.set_kind(v1::ARTIFACT_INT8_MODEL);
        auto ctx = rpc::MakeContext(10s, token);
        auto reader = stub_->GetArtifact(ctx.get(), req);
        v1::ArtifactChunk chunk;
        while (reader->Read(&chunk)) {
        }
        return reader->Finish();
    }
    v1::SearchService::Stub& stub() { return *stub_; }

  private:
    std::unique_ptr<v1::SearchService::Stub> stub_;
};

TEST(Security, UsersSeeAndCancelOnlyTheirOwnJobsAndAdminsSeeAll) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("owners"), dir.path(),
                                          TokenArgs());
    Client client(controller.address());

    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = SmallJob();
    v1::Job job;
    {
        auto ctx = rpc::MakeContext(10s, kAlice);
        const grpc::Status s = client.stub().SubmitJob(ctx.get(), submit, &job);
        ASSERT_TRUE(s.ok()) << s.error_message() << "\n" << controller.Log();
    }
    EXPECT_EQ(job.owner(), "user:alice");

    // Alice sees her job; Bob cannot read, watch, list or cancel it.
    v1::Job seen;
    EXPECT_TRUE(client.Get(kAlice, job.job_id(), &seen).ok());
    const grpc::Status bob_get = client.Get(kBob, job.job_id(), &seen);
    EXPECT_EQ(bob_get.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(bob_get.error_message(),
                HasSubstr("job_id: job " + job.job_id() + " belongs to another user"));
    EXPECT_EQ(client.Cancel(kBob, job.job_id()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(client.Front(kBob, job.job_id()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(client.Watch(kBob, job.job_id()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    v1::ListTrialsResponse trials;
    EXPECT_EQ(client.Trials(kBob, job.job_id(), &trials).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    v1::ListJobsResponse jobs;
    ASSERT_TRUE(client.List(kBob, "", &jobs).ok());
    EXPECT_EQ(jobs.jobs_size(), 0);  // Bob's list holds only Bob's jobs
    const grpc::Status bob_list = client.List(kBob, "user:alice", &jobs);
    EXPECT_EQ(bob_list.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(bob_list.error_message(), HasSubstr("owner: "));
    ASSERT_TRUE(client.List(kAlice, "", &jobs).ok());
    ASSERT_EQ(jobs.jobs_size(), 1);
    EXPECT_EQ(jobs.jobs(0).job_id(), job.job_id());

    // The scheduler creates trials: they are Alice's too.
    std::string trial_id;
    for (int i = 0; i < 300 && trial_id.empty(); ++i) {
        trials.Clear();
        ASSERT_TRUE(client.Trials(kAlice, job.job_id(), &trials).ok());
        if (trials.trials_size() > 0) trial_id = trials.trials(0).trial_id();
        if (trial_id.empty()) std::this_thread::sleep_for(100ms);
    }
    ASSERT_FALSE(trial_id.empty()) << controller.Log();
    EXPECT_TRUE(client.Trial(kAlice, trial_id).ok());
    EXPECT_EQ(client.Trial(kBob, trial_id).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(client.Artifact(kBob, trial_id).error_code(), grpc::StatusCode::PERMISSION_DENIED);

    // The admin sees everyone's jobs and can cancel them.
    EXPECT_TRUE(client.Get(kAdmin, job.job_id(), &seen).ok());
    EXPECT_TRUE(client.Trial(kAdmin, trial_id).ok());
    jobs.Clear();
    ASSERT_TRUE(client.List(kAdmin, "", &jobs).ok());
    EXPECT_EQ(jobs.jobs_size(), 1);
    jobs.Clear();
    ASSERT_TRUE(client.List(kAdmin, "user:alice", &jobs).ok());
    EXPECT_EQ(jobs.jobs_size(), 1);
    ASSERT_TRUE(client.Get(kAlice, job.job_id(), &seen).ok());
    EXPECT_NE(seen.state(), v1::JOB_CANCELLED);  // Bob's cancel changed nothing
    EXPECT_TRUE(client.Cancel(kAdmin, job.job_id()).ok());
    ASSERT_TRUE(client.Get(kAlice, job.job_id(), &seen).ok());
    EXPECT_EQ(seen.state(), v1::JOB_CANCELLED);

    // An admin token is not a worker's.
    auto work = v1::WorkService::NewStub(rpc::MakeChannel(controller.address()));
    v1::LeaseTrialRequest lease;
    lease.set_worker_id("w");
    v1::LeaseTrialResponse leased;
    auto ctx = rpc::MakeContext(10s, kAdmin);
    EXPECT_EQ(work->LeaseTrial(ctx.get(), lease, &leased).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
}

// A raw unary call with an arbitrary body.
grpc::Status RawUnary(const std::string& address, const std::string& method,
                      const std::string& body, const std::string& token) {
    grpc::GenericStub stub(rpc::MakeChannel(address));
    auto ctx = rpc::MakeContext(10s, token);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) {
                       std::lock_guard<std::mutex> lock(mu);
                       status = std::move(s);
                       done = true;
                       cv.notify_one();
                   });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return status;
}

// A raw server-streaming call with an arbitrary body.
grpc::Status RawStream(const std::string& address, const std::string& method,
                       const std::string& body, const std::string& token) {
    grpc::GenericStub stub(rpc::MakeChannel(address));
    auto ctx = rpc::MakeContext(10s, token);
    grpc::CompletionQueue cq;
    auto call = stub.PrepareCall(ctx.get(), method, &cq);
    void* tag = nullptr;
    bool ok = false;
    call->StartCall(reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    call->WriteLast(request, grpc::WriteOptions(), reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
    grpc::ByteBuffer response;
    for (;;) {  // read until the stream ends
        call->Read(&response, reinterpret_cast<void*>(3));
        cq.Next(&tag, &ok);
        if (!ok) break;
    }
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return status;
}

TEST(Security, AuthenticationComesBeforeTheRequestIsParsed) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("authfirst"), dir.path(),
                                          TokenArgs());
    const std::string garbage = "\xff\xff\xff\xff\x0f";  // not a protobuf message
    for (const char* method :
         {"/hilnas.v1.SearchService/GetJob", "/hilnas.v1.SearchService/SubmitJob",
          "/hilnas.v1.WorkService/CompleteTrial", "/hilnas.v1.WorkService/LeaseTrial",
          "/hilnas.v1.FarmService/Heartbeat"}) {
        const grpc::Status anonymous = RawUnary(controller.address(), method, garbage, "");
        EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << ": " << anonymous.error_message();
        const grpc::Status wrong =
            RawUnary(controller.address(), method, garbage, "not-a-token-of-anyone-here");
        EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    }
    for (const char* method :
         {"/hilnas.v1.SearchService/WatchJob", "/hilnas.v1.WorkService/FetchArtifact"}) {
        const grpc::Status anonymous = RawStream(controller.address(), method, garbage, "");
        EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << ": " << anonymous.error_message();
    }
    // Authenticated, the same body is named for what it is.
    const grpc::Status parsed =
        RawUnary(controller.address(), "/hilnas.v1.SearchService/GetJob", garbage, kAlice);
    EXPECT_EQ(parsed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(parsed.error_message(), "request: cannot be parsed as hilnas.v1.GetJobRequest");
    const grpc::Status streamed =
        RawStream(controller.address(), "/hilnas.v1.SearchService/WatchJob", garbage, kAlice);
    EXPECT_EQ(streamed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(streamed.error_message(), "request: cannot be parsed as hilnas.v1.WatchJobRequest");
    // And a well-formed request still works.
    v1::GetJobRequest get;
    get.set_job_id("00000000-0000-4000-8000-000000000000");
    EXPECT_EQ(RawUnary(controller.address(), "/hilnas.v1.SearchService/GetJob",
                       get.SerializeAsString(), kAlice)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
}

// Each case: a method, a token, a request that breaks one declared rule, and the message.
struct BadRequest {
    const char* method;
    const char* token;
    std::string body;
    std::string message;
};

template <typename M, typename Fn>
std::string Body(Fn&& fill) {
    M m;
    fill(m);
    return m.SerializeAsString();
}

TEST(Security, EveryRequestFieldIsCheckedAndNamed) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("fields"), dir.path(),
                                          TokenArgs());
    const double nan = std::nan("");
    const std::vector<BadRequest> cases = {
        {"/hilnas.v1.WorkService/CompleteTrial", kWorker,
         Body<v1::CompleteTrialRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.set_lease_id("l");
             auto* m = r.add_metrics();
             m->set_name("int8_accuracy");
             m->set_value(nan);
         }),
         "metrics[0].value: must be a finite number"},
        {"/hilnas.v1.WorkService/CompleteTrial", kWorker,
         Body<v1::CompleteTrialRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.set_lease_id("l");
             for (int i = 0; i < 2; ++i) {
                 auto* m = r.add_metrics();
                 m->set_name("params");
                 m->set_value(1);
             }
         }),
         "metrics[1].name: metric 'params' is reported twice"},
        {"/hilnas.v1.WorkService/ReportProgress", kWorker,
         Body<v1::ReportProgressRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.set_lease_id("l");
             r.mutable_progress()->set_loss(INFINITY);
         }),
         "progress.loss: must be a finite number"},
        {"/hilnas.v1.WorkService/ReportProgress", kWorker,
         Body<v1::ReportProgressRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.set_lease_id("l");
             r.mutable_progress()->set_validation_accuracy(3);
         }),
         "progress.validation_accuracy: must be in [0, 1]"},
        {"/hilnas.v1.WorkService/FailTrial", kWorker, Body<v1::FailTrialRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.set_lease_id("l");
             r.set_reason(std::string(10001, 'x'));
         }),
         "reason: must be at most 10000 bytes"},
        {"/hilnas.v1.WorkService/LeaseTrial", kWorker,
         Body<v1::LeaseTrialRequest>([&](auto& r) { r.set_worker_id(std::string("w\0x", 3)); }),
         "worker_id: must not contain control characters"},
        {"/hilnas.v1.WorkService/LeaseTrial", kWorker, Body<v1::LeaseTrialRequest>([&](auto& r) {
             r.set_worker_id("w");
             for (int i = 0; i < 300; ++i) r.mutable_capabilities()->add_datasets("mnist");
         }),
         "capabilities.datasets: must have at most 256 entries"},
        {"/hilnas.v1.WorkService/LeaseTrial", kWorker, Body<v1::LeaseTrialRequest>([&](auto& r) {
             r.set_worker_id("w");
             r.mutable_capabilities()->set_device(static_cast<v1::DeviceKind>(77));
         }),
         "capabilities.device: unknown value 77"},
        {"/hilnas.v1.FarmService/CompleteMeasurement", kAgent,
         Body<v1::CompleteMeasurementRequest>([&](auto& r) {
             r.set_agent_id("a");
             r.set_lease_id("l");
             r.mutable_measurement()->set_latency_ms(-1);
         }),
         "measurement.latency_ms: must be in [0, 3.6e+06]"},
        {"/hilnas.v1.FarmService/CompleteMeasurement", kAgent,
         Body<v1::CompleteMeasurementRequest>([&](auto& r) {
             r.set_agent_id("a");
             r.set_lease_id("l");
             r.mutable_measurement()->mutable_sram()->set_total_bytes(-5);
         }),
         "measurement.sram.total_bytes: must be >= 0"},
        {"/hilnas.v1.FarmService/ReportBoardHealth", kAgent,
         Body<v1::ReportBoardHealthRequest>([&](auto& r) {
             r.set_agent_id("a");
             r.set_board_id("b");
             r.set_health(v1::BOARD_HEALTH_BAD);
             r.set_reason(std::string(2000, 'r'));
         }),
         "reason: must be at most 1000 bytes"},
        {"/hilnas.v1.SearchService/GetArtifact", kAlice, Body<v1::GetArtifactRequest>([&](auto& r) {
             r.set_trial_id("t");
             r.set_kind(static_cast<v1::ArtifactKind>(42));
         }),
         "kind: unknown value 42"},
        {"/hilnas.v1.SearchService/SubmitJob", kAlice, Body<v1::SubmitJobRequest>([&](auto& r) {
             *r.mutable_spec() = SmallJob();
             r.mutable_spec()->mutable_dataset()->set_path("/etc");
         }),
         "spec.dataset.path: this controller does not accept dataset paths "
         "(jobs.allow_dataset_paths); trainers read datasets from their own datasets option"},
        {"/hilnas.v1.SearchService/ListTrials", kAlice, Body<v1::ListTrialsRequest>([&](auto& r) {
             r.set_job_id("j");
             r.set_state(static_cast<v1::TrialState>(99));
         }),
         "state: unknown value 99"},
    };
    for (const BadRequest& c : cases) {
        const grpc::Status s = RawUnary(controller.address(), c.method, c.body, c.token);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << c.method << " " << c.message;
        EXPECT_EQ(s.error_message(), c.message) << c.method;
    }
}

// A self-signed certificate for localhost and 127.0.0.1, and its key, as PEM files.
struct Pem {
    std::string cert;
    std::string key;
};

Pem MakeSelfSigned(const testing::TempDir& dir, const std::string& name) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* subject = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, subject);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    X509_add_ext(cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert, key, EVP_sha256());
    Pem out{dir / (name + "-cert.pem"), dir / (name + "-key.pem")};
    FILE* f = std::fopen(out.cert.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(out.key.c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
    return out;
}

TEST(Security, TlsFilesThatAreWrongSaySoAtStartUp) {
    testing::TempDir dir;
    const Pem a = MakeSelfSigned(dir, "a");
    const Pem b = MakeSelfSigned(dir, "b");
    const std::string junk = dir.Write("junk.pem", "this is not PEM\n");
    for (const auto& [cert, key, expected] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {a.cert, b.key,
              "tls.key: '" + b.key + "' is not the private key of the certificate in '" + a.cert +
                  "'"},
             {junk, a.key, "tls.cert: '" + junk + "' is not a PEM certificate"},
             {a.cert, junk, "tls.key: '" + junk + "' is not an unencrypted PEM private key"},
             {a.cert, dir / "missing.pem", "tls.key: cannot read '" + dir / "missing.pem" + "'"}}) {
        ProcessOptions options;
        options.argv = {testing::BuildPath("controller/hilnas-controller"),
                        "--listen",
                        "127.0.0.1:0",
                        "--database",
                        "host=127.0.0.1 port=1 dbname=never-reached",
                        "--tls.cert",
                        cert,
                        "--tls.key",
                        key};
        options.timeout = 60s;
        const ProcessResult r = RunProcess(options);
        EXPECT_EQ(r.exit_code, 2) << r.err;
        EXPECT_THAT(r.err, HasSubstr(expected));
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_THAT(r.err, ::testing::Not(HasSubstr("address in use")));
    }

    // The matching pair serves TLS: a client trusting the certificate gets answers.
    testing::ControllerProcess controller(
        testing::FreshDatabase("tls"), dir.path(),
        {"--tls.cert", a.cert, "--tls.key", a.key, "--auth.user_tokens", kAlice});
    rpc::ChannelOptions tls;
    tls.ca_cert_path = a.cert;
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(controller.address(), tls));
    v1::GetJobRequest get;
    get.set_job_id("00000000-0000-4000-8000-000000000000");
    v1::Job job;
    auto ctx = rpc::MakeContext(20s, kAlice);
    const grpc::Status s = stub->GetJob(ctx.get(), get, &job);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message() << "\n"
                                                           << controller.Log();
}

}  // namespace
}  // namespace hilnas
