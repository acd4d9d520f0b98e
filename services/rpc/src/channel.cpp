#include "hilnas/rpc/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>

#include "hilnas/common/errors.h"

namespace hilnas::rpc {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelOptions& options) {
    if (address.empty()) throw InvalidArgument("must be host:port", "controller");
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (options.ca_cert_path.empty()) {
        creds = grpc::InsecureChannelCredentials();
    } else {
        std::ifstream in(options.ca_cert_path);
        if (!in) throw InvalidArgument("cannot read the CA certificate", options.ca_cert_path);
        std::ostringstream pem;
        pem << in.rdbuf();
        grpc::SslCredentialsOptions ssl;
        ssl.pem_root_certs = pem.str();
        creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    return grpc::CreateCustomChannel(address, creds, args);
}

std::unique_ptr<grpc::ClientContext> MakeContext(std::chrono::milliseconds timeout,
                                                 const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + timeout);
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
}

}  // namespace hilnas::rpc
