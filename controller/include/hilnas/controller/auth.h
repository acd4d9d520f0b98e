// Bearer tokens per role. A call carries "authorization: Bearer <token>";
// each service accepts one role: users (SearchService), workers
// (WorkService), agents (FarmService). Admins call the users' service and
// see every user's jobs; a user sees only their own. With no tokens
// configured at all, authentication is off (a local stack on loopback: every
// caller is "anonymous" and sees everything); configure tokens for anything
// reachable from a network.
//
// A token entry is either the token itself or "NAME:TOKEN"; the caller is
// then known as "<role>:NAME" (else "<role>:<position in its list>"), and
// that is the owner recorded on the jobs they submit.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <vector>

namespace hilnas::controller {

enum class Role { kUser, kWorker, kAgent, kAdmin };
const char* RoleName(Role role);

// Who is calling, once authenticated.
struct Caller {
    Role role = Role::kUser;
    std::string principal = "anonymous";  // "user:alice", "admin:0", ... or "anonymous"
    // Admins, and everyone when authentication is off.
    bool SeesAllJobs() const { return role == Role::kAdmin || principal == "anonymous"; }
};

struct TokenLists {
    std::vector<std::string> user;
    std::vector<std::string> worker;
    std::vector<std::string> agent;
    std::vector<std::string> admin;
};

class Authenticator {
  public:
    explicit Authenticator(const TokenLists& tokens);

    bool enabled() const { return enabled_; }
    // OK with the caller filled in, UNAUTHENTICATED (no or unknown token) or
    // PERMISSION_DENIED (a token of a role the service does not serve).
    grpc::Status Authenticate(const grpc::ServerContextBase& context, Role service,
                              Caller* caller) const;

  private:
    struct Token {
        std::string value;
        Role role;
        std::string principal;
    };
    const Token* Find(const grpc::ServerContextBase& context) const;
    std::vector<Token> tokens_;
    bool enabled_ = false;
};

}  // namespace hilnas::controller
