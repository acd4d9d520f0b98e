// The controller's gRPC server: wiring only. The logic behind each service
// lives in its own classes; this owns the listening socket, TLS, the health
// and reflection services, and orderly shutdown.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hilnas/common/config.h"
#include "hilnas/controller/auth.h"

namespace grpc {
class Server;
}

namespace hilnas::controller {

struct ServerOptions {
    std::string listen = "127.0.0.1:50051";  // host:port; port 0 picks a free one
    std::string tls_cert;                    // PEM paths; both empty: plaintext
    std::string tls_key;
    int max_message_bytes = 64 << 20;
};

struct ServiceDeps;

// The health-check service name whose status says whether this replica's
// scheduler leads (SERVING) or not (NOT_SERVING); the controller's own
// services are SERVING on every replica.
inline constexpr char kLeaderHealthName[] = "hilnas.controller.SchedulerLeader";

// The controller's configuration schema (shared by main and the tests).
ConfigSchema MakeConfigSchema();
// ServerOptions from a loaded configuration; throws InvalidArgument naming the key.
// TLS files are read and checked here, before anything else starts.
ServerOptions ServerOptionsFrom(const Config& config);

// Throws InvalidArgument naming tls.cert or tls.key when the certificate is
// not PEM, the key is not an unencrypted PEM key, or the key is not the
// certificate's. gRPC itself would only fail to listen.
void CheckTlsFiles(const ServerOptions& options);

class ControllerServer {
  public:
    // `deps` (the store, authentication, executor) must outlive the server.
    ControllerServer(ServerOptions options, const ServiceDeps& deps);
    ~ControllerServer();

    // Binds and starts serving. Throws Unavailable when the address cannot be bound.
    void Start();
    // The port actually bound (after Start).
    int port() const { return port_; }
    // Sets a health-check status (thread-safe; after Start, before Shutdown).
    void SetServingStatus(const std::string& service, bool serving);
    // Blocks until Shutdown() has completed.
    void Wait();
    // Health turns NOT_SERVING, in-flight calls get `grace` to finish, then are cancelled.
    void Shutdown(std::chrono::milliseconds grace);

  private:
    class Services;
    ServerOptions options_;
    std::unique_ptr<Services> services_;
    std::unique_ptr<grpc::Server> server_;
    int port_ = 0;
};

}  // namespace hilnas::controller
