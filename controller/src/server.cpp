#include "hilnas/controller/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "hilnas/common/errors.h"
#include "services.h"

namespace hilnas::controller {

namespace {

std::string ReadFile(const std::string& path, const std::string& field) {
    std::ifstream in(path);
    if (!in) throw InvalidArgument("cannot read '" + path + "'", field);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

class ControllerServer::Services {
  public:
    explicit Services(const ServiceDeps& deps) : search(deps), work(deps), farm(deps) {}
    SearchServiceImpl search;
    WorkServiceImpl work;
    FarmServiceImpl farm;
};

ControllerServer::ControllerServer(ServerOptions options, const ServiceDeps& deps)
    : options_(std::move(options)), services_(std::make_unique<Services>(deps)) {}

ControllerServer::~ControllerServer() {
    if (server_) Shutdown(std::chrono::milliseconds(0));
}

void ControllerServer::Start() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();

    std::shared_ptr<grpc::ServerCredentials> creds;
    if (options_.tls_cert.empty()) {
        creds = grpc::InsecureServerCredentials();
    } else {
        grpc::SslServerCredentialsOptions ssl;
        ssl.pem_key_cert_pairs.push_back(
            {ReadFile(options_.tls_key, "tls.key"), ReadFile(options_.tls_cert, "tls.cert")});
        creds = grpc::SslServerCredentials(ssl);
    }

    grpc::ServerBuilder builder;
    // Without SO_REUSEPORT a second controller on the same port fails loudly
    // instead of silently sharing its clients.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort(options_.listen, creds, &port_);
    builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
    builder.SetMaxSendMessageSize(options_.max_message_bytes);
    builder.RegisterService(&services_->search);
    builder.RegisterService(&services_->work);
    builder.RegisterService(&services_->farm);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
        server_.reset();
        throw Unavailable("cannot listen on '" + options_.listen +
                              "' (address in use, or not an address of this host?)",
                          "listen");
    }
    auto* health = server_->GetHealthCheckService();
    for (const char* name :
         {"", "hilnas.v1.SearchService", "hilnas.v1.WorkService", "hilnas.v1.FarmService"}) {
        health->SetServingStatus(name, true);
    }
}

void ControllerServer::Wait() {
    if (server_) server_->Wait();
}

void ControllerServer::Shutdown(std::chrono::milliseconds grace) {
    if (!server_) return;
    server_->GetHealthCheckService()->Shutdown();  // NOT_SERVING from now on
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    server_.reset();
}

}  // namespace hilnas::controller
