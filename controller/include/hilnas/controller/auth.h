// Bearer tokens per role. A call carries "authorization: Bearer <token>";
// each service accepts one role: users (SearchService), workers
// (WorkService), agents (FarmService). With no tokens configured at all,
// authentication is off (a local stack on loopback); configure tokens for
// anything reachable from a network.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <vector>

namespace hilnas::controller {

enum class Role { kUser, kWorker, kAgent };
const char* RoleName(Role role);

class Authenticator {
  public:
    Authenticator(std::vector<std::string> user_tokens, std::vector<std::string> worker_tokens,
                  std::vector<std::string> agent_tokens);

    bool enabled() const { return enabled_; }
    // OK, UNAUTHENTICATED (no or unknown token) or PERMISSION_DENIED (a token of another role).
    grpc::Status Check(const grpc::ServerContextBase& context, Role role) const;
    // The caller's identity for the records: "user:<n>", "worker:<n>" or "anonymous".
    std::string Principal(const grpc::ServerContextBase& context) const;

  private:
    struct Token {
        std::string value;
        Role role;
        int index;
    };
    const Token* Find(const grpc::ServerContextBase& context) const;
    std::vector<Token> tokens_;
    bool enabled_ = false;
};

}  // namespace hilnas::controller
