// What the three services share: the store, authentication, the executor, and
// the hand-off that keeps gRPC handlers from blocking.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "hilnas/common/errors.h"
#include "hilnas/common/thread_pool.h"
#include "hilnas/common/timer.h"
#include "hilnas/controller/auth.h"
#include "hilnas/rpc/status.h"
#include "hilnas/store/store.h"

namespace hilnas::controller {

struct ServiceOptions {
    std::chrono::milliseconds lease{60000};  // trainers' and agents' lease
    std::chrono::milliseconds heartbeat_interval{15000};
    std::chrono::milliseconds max_wait{30000};     // long-poll cap
    std::chrono::milliseconds poll_interval{250};  // long-poll and watch re-check
    size_t artifact_chunk_bytes = 1 << 20;
};

struct ServiceDeps {
    store::Store* store = nullptr;
    const Authenticator* auth = nullptr;
    ThreadPool* pool = nullptr;
    Timer* timer = nullptr;
    ServiceOptions options;
    std::function<void()> wake_scheduler = [] {};
};

// Runs `fn` (returning grpc::Status) on the executor after checking the role,
// and finishes the reactor with its status.
template <typename Fn>
grpc::ServerUnaryReactor* RunUnary(const ServiceDeps& deps, grpc::CallbackServerContext* ctx,
                                   Role role, const char* method, Fn&& fn) {
    auto* reactor = ctx->DefaultReactor();
    if (const grpc::Status denied = deps.auth->Check(*ctx, role); !denied.ok()) {
        reactor->Finish(denied);
        return reactor;
    }
    const bool queued = deps.pool->Submit([reactor, method, fn = std::forward<Fn>(fn)]() mutable {
        reactor->Finish(rpc::Guard(method, fn));
    });
    if (!queued) reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    return reactor;
}

// An id a request must carry: present, at most 200 bytes, no control
// characters (a NUL would be cut short by the database driver and a newline
// would forge a log line).
inline void Require(const std::string& value, const char* field) {
    if (value.empty()) throw InvalidArgument("is required", field);
    if (value.size() > 200) throw InvalidArgument("must be at most 200 characters", field);
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            throw InvalidArgument("must not contain control characters", field);
        }
    }
}

// Free text a request may carry (a reason, a phase): at most `max_bytes`,
// no control characters. Longer input is refused, never silently cut.
inline void CheckText(const std::string& value, const char* field, size_t max_bytes) {
    if (value.size() > max_bytes) {
        throw InvalidArgument("must be at most " + std::to_string(max_bytes) + " bytes", field);
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            throw InvalidArgument("must not contain control characters", field);
        }
    }
}

// The wait a long poll asked for, capped by the server's limit.
std::chrono::milliseconds CappedWait(const google::protobuf::Duration& wait,
                                     std::chrono::milliseconds cap);

void SetDuration(std::chrono::milliseconds d, google::protobuf::Duration* out);

// Streams an artifact in chunks; the first carries its reference. The
// handler returns it at once; the executor fetches the artifact and calls
// Begin (or Fail) from there.
class ArtifactWriter : public grpc::ServerWriteReactor<v1::ArtifactChunk> {
  public:
    explicit ArtifactWriter(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}
    void Begin(store::StoredArtifact artifact);
    void Fail(const grpc::Status& status) { Finish(status); }
    void OnWriteDone(bool ok) override;
    void OnDone() override { delete this; }

    // Returns a writer for `ctx` whose artifact `fetch` produces on the executor.
    static ArtifactWriter* Serve(const ServiceDeps& deps, grpc::CallbackServerContext* ctx,
                                 Role role, const char* method,
                                 std::function<store::StoredArtifact()> fetch);

  private:
    void Next();
    store::StoredArtifact artifact_;
    size_t chunk_bytes_ = 0;
    size_t offset_ = 0;
    v1::ArtifactChunk chunk_;
};

}  // namespace hilnas::controller
