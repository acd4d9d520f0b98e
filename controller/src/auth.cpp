#include "hilnas/controller/auth.h"

#include "hilnas/common/errors.h"

namespace hilnas::controller {

namespace {

// Compares without an early exit, so timing does not reveal how much of a token matched.
bool SameToken(const std::string& a, const std::string& b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < b.size(); ++i) {
        diff |= static_cast<unsigned char>((i < a.size() ? a[i] : 0) ^ b[i]);
    }
    return diff == 0;
}

}  // namespace

const char* RoleName(Role role) {
    switch (role) {
        case Role::kUser:
            return "user";
        case Role::kWorker:
            return "worker";
        case Role::kAgent:
            return "agent";
    }
    return "?";
}

Authenticator::Authenticator(std::vector<std::string> user_tokens,
                             std::vector<std::string> worker_tokens,
                             std::vector<std::string> agent_tokens) {
    auto add = [this](const std::vector<std::string>& list, Role role, const char* key) {
        for (size_t i = 0; i < list.size(); ++i) {
            if (list[i].size() < 16) {
                throw InvalidArgument("tokens must be at least 16 characters", key);
            }
            for (const Token& t : tokens_) {
                if (t.value == list[i]) throw InvalidArgument("a token is listed twice", key);
            }
            tokens_.push_back({list[i], role, static_cast<int>(i)});
        }
    };
    add(user_tokens, Role::kUser, "auth.user_tokens");
    add(worker_tokens, Role::kWorker, "auth.worker_tokens");
    add(agent_tokens, Role::kAgent, "auth.agent_tokens");
    enabled_ = !tokens_.empty();
}

const Authenticator::Token* Authenticator::Find(const grpc::ServerContextBase& context) const {
    const auto& md = context.client_metadata();
    const auto it = md.find("authorization");
    if (it == md.end()) return nullptr;
    const std::string header(it->second.data(), it->second.size());
    static const std::string kBearer = "Bearer ";
    if (header.rfind(kBearer, 0) != 0) return nullptr;
    const std::string token = header.substr(kBearer.size());
    const Token* found = nullptr;
    for (const Token& t : tokens_) {
        if (SameToken(token, t.value)) found = &t;
    }
    return found;
}

grpc::Status Authenticator::Check(const grpc::ServerContextBase& context, Role role) const {
    if (!enabled_) return grpc::Status::OK;
    const Token* t = Find(context);
    if (t == nullptr) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "authorization: a valid 'Bearer <token>' is required");
    }
    if (t->role != role) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            std::string("authorization: a ") + RoleName(t->role) +
                                " token cannot call a " + RoleName(role) + " service");
    }
    return grpc::Status::OK;
}

std::string Authenticator::Principal(const grpc::ServerContextBase& context) const {
    if (!enabled_) return "anonymous";
    const Token* t = Find(context);
    return t == nullptr ? "anonymous"
                        : std::string(RoleName(t->role)) + ":" + std::to_string(t->index);
}

}  // namespace hilnas::controller
