// FarmClient over gRPC: deadlines on every call, statuses mapped to hilnas errors.
#include <grpcpp/grpcpp.h>

#include "hilnas/agent/agent.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/rpc/status.h"
#include "hilnas/v1/farm_service.grpc.pb.h"

namespace hilnas::agent {

namespace {

class GrpcFarmClient : public FarmClient {
  public:
    explicit GrpcFarmClient(const FarmClientOptions& o)
        : options_(o),
          stub_(v1::FarmService::NewStub(
              rpc::MakeChannel(o.address, rpc::ChannelOptions{o.ca_cert_path, o.token}))) {}

    v1::RegisterAgentResponse RegisterAgent(const v1::RegisterAgentRequest& r) override {
        return Call(&v1::FarmService::Stub::RegisterAgent, r, options_.call_timeout,
                    "RegisterAgent");
    }
    v1::LeaseMeasurementResponse LeaseMeasurement(const v1::LeaseMeasurementRequest& r) override {
        const auto wait =
            std::chrono::milliseconds(r.wait().seconds() * 1000 + r.wait().nanos() / 1000000);
        return Call(&v1::FarmService::Stub::LeaseMeasurement, r, options_.call_timeout + wait,
                    "LeaseMeasurement");
    }
    v1::LeaseHeartbeatResponse Heartbeat(const v1::LeaseHeartbeatRequest& r) override {
        return Call(&v1::FarmService::Stub::Heartbeat, r, options_.call_timeout, "Heartbeat");
    }
    v1::CompleteMeasurementResponse CompleteMeasurement(
        const v1::CompleteMeasurementRequest& r) override {
        return Call(&v1::FarmService::Stub::CompleteMeasurement, r, options_.call_timeout,
                    "CompleteMeasurement");
    }
    v1::FailMeasurementResponse FailMeasurement(const v1::FailMeasurementRequest& r) override {
        return Call(&v1::FarmService::Stub::FailMeasurement, r, options_.call_timeout,
                    "FailMeasurement");
    }
    void ReportBoardHealth(const v1::ReportBoardHealthRequest& r) override {
        Call(&v1::FarmService::Stub::ReportBoardHealth, r, options_.call_timeout,
             "ReportBoardHealth");
    }

  private:
    template <typename Req, typename Resp>
    Resp Call(grpc::Status (v1::FarmService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                            Resp*),
              const Req& req, std::chrono::milliseconds timeout, const char* name) {
        auto ctx = rpc::MakeContext(timeout, options_.token);
        Resp resp;
        const grpc::Status s = (stub_.get()->*method)(ctx.get(), req, &resp);
        if (!s.ok()) rpc::ThrowStatus(s, name);
        return resp;
    }

    FarmClientOptions options_;
    std::unique_ptr<v1::FarmService::Stub> stub_;
};

}  // namespace

std::unique_ptr<FarmClient> MakeGrpcFarmClient(const FarmClientOptions& options) {
    return std::make_unique<GrpcFarmClient>(options);
}

}  // namespace hilnas::agent
