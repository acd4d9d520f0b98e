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

bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

// "NAME:TOKEN" -> {NAME, TOKEN}; a plain token -> {"", token}.
std::pair<std::string, std::string> SplitNamed(const std::string& entry) {
    const size_t colon = entry.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 64) return {"", entry};
    for (size_t i = 0; i < colon; ++i) {
        if (!IsNameChar(entry[i])) return {"", entry};
    }
    return {entry.substr(0, colon), entry.substr(colon + 1)};
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
        case Role::kAdmin:
            return "admin";
    }
    return "?";
}

Authenticator::Authenticator(const TokenLists& lists) {
    auto add = [this](const std::vector<std::string>& list, Role role, const char* key) {
        for (size_t i = 0; i < list.size(); ++i) {
            auto [name, value] = SplitNamed(list[i]);
            if (value.size() < 16) {
                throw InvalidArgument("tokens must be at least 16 characters", key);
            }
            for (char c : value) {
                if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
                    throw InvalidArgument("tokens must not contain spaces or control characters",
                                          key);
                }
            }
            const std::string principal =
                std::string(RoleName(role)) + ":" + (name.empty() ? std::to_string(i) : name);
            for (const Token& t : tokens_) {
                if (t.value == value) throw InvalidArgument("a token is listed twice", key);
                if (t.principal == principal) {
                    throw InvalidArgument("two tokens are named '" + principal + "'", key);
                }
            }
            tokens_.push_back({value, role, principal});
        }
    };
    add(lists.user, Role::kUser, "auth.user_tokens");
    add(lists.worker, Role::kWorker, "auth.worker_tokens");
    add(lists.agent, Role::kAgent, "auth.agent_tokens");
    add(lists.admin, Role::kAdmin, "auth.admin_tokens");
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

grpc::Status Authenticator::Authenticate(const grpc::ServerContextBase& context, Role service,
                                         Caller* caller) const {
    if (!enabled_) {
        *caller = Caller{service == Role::kUser ? Role::kAdmin : service, "anonymous"};
        return grpc::Status::OK;
    }
    const Token* t = Find(context);
    if (t == nullptr) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "authorization: a valid 'Bearer <token>' is required");
    }
    const bool allowed = t->role == service || (service == Role::kUser && t->role == Role::kAdmin);
    if (!allowed) {
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            std::string("authorization: a ") + RoleName(t->role) +
                                " token cannot call a " + RoleName(service) + " service");
    }
    *caller = Caller{t->role, t->principal};
    return grpc::Status::OK;
}

}  // namespace hilnas::controller
