// WorkClient over gRPC: deadlines on every call, statuses mapped to hilnas errors.
#include <grpcpp/grpcpp.h>

#include "hilnas/common/errors.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/rpc/status.h"
#include "hilnas/trainer/worker.h"
#include "hilnas/v1/work_service.grpc.pb.h"

namespace hilnas::trainer {

namespace {

using rpc::ThrowStatus;

class GrpcWorkClient : public WorkClient {
  public:
    explicit GrpcWorkClient(const GrpcClientOptions& o)
        : options_(o),
          stub_(v1::WorkService::NewStub(
              rpc::MakeChannel(o.address, rpc::ChannelOptions{o.ca_cert_path, o.token}))) {}

    v1::LeaseTrialResponse LeaseTrial(const v1::LeaseTrialRequest& req) override {
        const auto wait =
            std::chrono::milliseconds(req.wait().seconds() * 1000 + req.wait().nanos() / 1000000);
        auto ctx = rpc::MakeContext(options_.call_timeout + wait, options_.token);
        v1::LeaseTrialResponse resp;
        const grpc::Status s = stub_->LeaseTrial(ctx.get(), req, &resp);
        if (!s.ok()) ThrowStatus(s, "LeaseTrial");
        return resp;
    }
    v1::LeaseHeartbeatResponse Heartbeat(const v1::LeaseHeartbeatRequest& req) override {
        return Call(&v1::WorkService::Stub::Heartbeat, req, v1::LeaseHeartbeatResponse{},
                    "Heartbeat");
    }
    v1::ReportProgressResponse ReportProgress(const v1::ReportProgressRequest& req) override {
        return Call(&v1::WorkService::Stub::ReportProgress, req, v1::ReportProgressResponse{},
                    "ReportProgress");
    }
    v1::CompleteTrialResponse CompleteTrial(const v1::CompleteTrialRequest& req) override {
        return Call(&v1::WorkService::Stub::CompleteTrial, req, v1::CompleteTrialResponse{},
                    "CompleteTrial");
    }
    v1::FailTrialResponse FailTrial(const v1::FailTrialRequest& req) override {
        return Call(&v1::WorkService::Stub::FailTrial, req, v1::FailTrialResponse{}, "FailTrial");
    }
    std::string FetchArtifact(const std::string& artifact_id) override {
        auto ctx = rpc::MakeContext(options_.call_timeout, options_.token);
        v1::FetchArtifactRequest req;
        req.set_artifact_id(artifact_id);
        auto reader = stub_->FetchArtifact(ctx.get(), req);
        v1::ArtifactChunk chunk;
        std::string data, sha;
        while (reader->Read(&chunk)) {
            if (chunk.has_ref() && sha.empty()) sha = chunk.ref().sha256();
            if (chunk.offset() != static_cast<int64_t>(data.size())) {
                throw Unavailable("FetchArtifact: chunk at offset " +
                                  std::to_string(chunk.offset()) + ", expected " +
                                  std::to_string(data.size()));
            }
            data += chunk.data();
        }
        const grpc::Status s = reader->Finish();
        if (!s.ok()) ThrowStatus(s, "FetchArtifact");
        if (!sha.empty() && sha != Sha256Hex(data)) {
            throw Unavailable("FetchArtifact: artifact " + artifact_id + " fails its sha256");
        }
        return data;
    }

  private:
    template <typename Method, typename Req, typename Resp>
    Resp Call(Method method, const Req& req, Resp resp, const char* name) {
        auto ctx = rpc::MakeContext(options_.call_timeout, options_.token);
        const grpc::Status s = ((*stub_).*method)(ctx.get(), req, &resp);
        if (!s.ok()) ThrowStatus(s, name);
        return resp;
    }

    GrpcClientOptions options_;
    std::unique_ptr<v1::WorkService::Stub> stub_;
};

}  // namespace

std::unique_ptr<WorkClient> MakeGrpcWorkClient(const GrpcClientOptions& options) {
    return std::make_unique<GrpcWorkClient>(options);
}

}  // namespace hilnas::trainer
