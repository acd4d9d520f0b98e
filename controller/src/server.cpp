#include "hilnas/controller/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>
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

std::string OpenSslReason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return std::string(" (") + text + ")";
}

// gRPC reports a certificate that does not parse, or a key that does not
// belong to it, only as a failure to listen; so both are checked here first,
// each with its own message.
void CheckTlsPair(const std::string& cert_pem, const std::string& key_pem,
                  const std::string& cert_path, const std::string& key_path) {
    ERR_clear_error();
    std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(
        BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) {
        throw InvalidArgument("'" + cert_path + "' is not a PEM certificate" + OpenSslReason(),
                              "tls.cert");
    }
    std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
        BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) {
        throw InvalidArgument(
            "'" + key_path + "' is not an unencrypted PEM private key" + OpenSslReason(),
            "tls.key");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw InvalidArgument(
            "'" + key_path + "' is not the private key of the certificate in '" + cert_path + "'",
            "tls.key");
    }
    const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
    if (X509_cmp_current_time(not_after) < 0) {
        spdlog::warn("tls.cert: the certificate in '{}' has expired", cert_path);
    }
}

}  // namespace

void CheckTlsFiles(const ServerOptions& options) {
    if (options.tls_cert.empty()) return;
    CheckTlsPair(ReadFile(options.tls_cert, "tls.cert"), ReadFile(options.tls_key, "tls.key"),
                 options.tls_cert, options.tls_key);
}

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
        const std::string key = ReadFile(options_.tls_key, "tls.key");
        const std::string cert = ReadFile(options_.tls_cert, "tls.cert");
        CheckTlsPair(cert, key, options_.tls_cert, options_.tls_key);
        ssl.pem_key_cert_pairs.push_back({key, cert});
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

void ControllerServer::SetServingStatus(const std::string& service, bool serving) {
    if (server_) server_->GetHealthCheckService()->SetServingStatus(service, serving);
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
