// Client channels to the controller.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <memory>
#include <string>

namespace hilnas::rpc {

struct ChannelOptions {
    std::string ca_cert_path;  // empty: plaintext; else TLS with this CA bundle
    std::string token;         // bearer token sent with every call; empty: none
};

// A channel to `address` ("host:port"). Throws InvalidArgument for an empty address.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options = {});

// A client context with a deadline `timeout` from now and the bearer token, if any.
std::unique_ptr<grpc::ClientContext> MakeContext(std::chrono::milliseconds timeout,
                                                 const std::string& token = {});

}  // namespace hilnas::rpc
