// hilnas ping: asks the controller's standard health service whether it serves.
#include <chrono>
#include <iostream>

#include "commands.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "hilnas/common/errors.h"
#include "hilnas/rpc/status.h"

namespace hilnas::cli {

int Ping(const Args& args) {
    ConfigSchema schema;
    AddClientOptions(schema);
    schema.Add({"service", OptionType::kString, "", "service to check (empty: the server)"});
    Config config;
    if (!LoadOrHelp("hilnas ping [--controller HOST:PORT] [--service NAME]", schema, args,
                    config)) {
        return 0;
    }
    if (!config.positional().empty()) {
        throw InvalidArgument("unexpected argument", config.positional().front());
    }
    const ClientOptions client = ClientOptionsFrom(config);
    auto channel = rpc::MakeChannel(client.controller, client.channel);
    auto stub = grpc::health::v1::Health::NewStub(channel);

    grpc::health::v1::HealthCheckRequest request;
    request.set_service(config.GetString("service"));
    grpc::health::v1::HealthCheckResponse response;
    auto context = rpc::MakeContext(client.timeout, client.channel.token);
    const auto start = std::chrono::steady_clock::now();
    const grpc::Status status = stub->Check(context.get(), request, &response);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) {
        const auto code = status.error_code();
        const std::string what = code == grpc::StatusCode::UNAVAILABLE ? "unreachable"
                                 : code == grpc::StatusCode::DEADLINE_EXCEEDED
                                     ? "did not answer in time"
                                     : "refused the health check";
        throw Unavailable("controller " + client.controller + " " + what + " (" +
                          rpc::DescribeStatus(status) + ")");
    }
    const std::string state =
        grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
    std::printf("%s %s %.1f ms\n", client.controller.c_str(), state.c_str(), ms);
    return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace hilnas::cli
