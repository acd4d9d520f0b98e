// What the three services share: the store, authentication, the executor,
// the hand-off that keeps gRPC handlers from blocking, and the binding of
// every method so that the caller is authenticated before anything else.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "hilnas/common/errors.h"
#include "hilnas/common/thread_pool.h"
#include "hilnas/common/timer.h"
#include "hilnas/controller/auth.h"
#include "hilnas/rpc/status.h"
#include "hilnas/store/store.h"
#include "validate.h"

namespace hilnas::controller {

struct ServiceOptions {
    std::chrono::milliseconds lease{60000};  // trainers' and agents' lease
    std::chrono::milliseconds heartbeat_interval{15000};
    std::chrono::milliseconds max_wait{30000};     // long-poll cap
    std::chrono::milliseconds poll_interval{250};  // long-poll and watch re-check
    size_t artifact_chunk_bytes = 1 << 20;
    // Whether a job may name a dataset path for the trainers to read
    // (absolute, no '..'); off, workers read only their own `datasets` locations.
    bool allow_dataset_paths = false;
};

struct ServiceDeps {
    store::Store* store = nullptr;
    const Authenticator* auth = nullptr;
    ThreadPool* pool = nullptr;
    Timer* timer = nullptr;
    ServiceOptions options;
    std::function<void()> wake_scheduler = [] {};
};

// The wait a long poll asked for, capped by the server's limit.
std::chrono::milliseconds CappedWait(const google::protobuf::Duration& wait,
                                     std::chrono::milliseconds cap);

void SetDuration(std::chrono::milliseconds d, google::protobuf::Duration* out);
google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t);

// A Heartbeat's answer (WorkService and FarmService alike): the store's renewal.
void SetHeartbeat(const store::LeaseRenewal& renewal, v1::LeaseHeartbeatResponse* out);

// The wire, after the caller is known. Requests arrive as bytes and are
// parsed only once the caller is authenticated, so an unauthenticated call is
// refused with UNAUTHENTICATED whatever its body; a body that is not the
// method's message is INVALID_ARGUMENT naming the message.
grpc::Status ParseRequest(const grpc::ByteBuffer& in, google::protobuf::Message* request);
grpc::Status SerializeMessage(const google::protobuf::Message& message, grpc::ByteBuffer* out);

// Authenticates the caller for `role`, then parses `in` into `request`.
grpc::Status Admit(const ServiceDeps& deps, const grpc::CallbackServerContext& ctx, Role role,
                   const grpc::ByteBuffer& in, Caller* caller, google::protobuf::Message* request);

// Admit, then the request's validator (see validate.h).
template <typename Req>
grpc::Status AdmitValid(const ServiceDeps& deps, const grpc::CallbackServerContext& ctx, Role role,
                        const grpc::ByteBuffer& in, Caller* caller, Req* request) {
    if (grpc::Status s = Admit(deps, ctx, role, in, caller, request); !s.ok()) return s;
    return rpc::Guard("Validate", [&] {
        Validate(*request);
        return grpc::Status::OK;
    });
}

// The index of `method` in the service, checked against the handler's message types.
int MethodIndex(const char* service, const char* method,
                const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* response);
int MethodCount(const char* service);

// A unary call that waits for work: `attempt` runs on the executor and
// returns true once it has filled the response; until then it is retried on
// the timer every poll interval, without holding a thread, until the wait has
// passed (then the call answers OK with an empty response) or the client
// goes away. `finish` runs once, with the call's status.
struct LongPollState {
    ServiceDeps deps;
    grpc::CallbackServerContext* ctx = nullptr;
    std::chrono::steady_clock::time_point deadline;
    const char* method = "";
    std::function<bool()> attempt;
    std::function<void(const grpc::Status&)> finish;
};
void StartLongPoll(std::shared_ptr<LongPollState> state);

// A server stream refused before it started.
class RefusedStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
  public:
    explicit RefusedStream(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
};

// The base of the three services. Every method is bound raw (bytes in, bytes
// out) to a handler that sees an authenticated caller and a parsed request:
//   unary      void H(const Caller&, const Req&, Resp*)   on the executor; throws hilnas errors
//   long poll  bool H(const Caller&, const Req&, Resp*)   retried until true or req.wait()
//   stream     ServerWriteReactor<ByteBuffer>* H(const Caller&, CallbackServerContext*, const Req&)
// The constructor of a service binds each of its methods and then calls
// CheckAllBound, so a method added to the proto cannot be left unguarded.
template <typename Generated>
class BoundService : public grpc::Service {
  public:
    BoundService(ServiceDeps deps, Role role) : deps_(std::move(deps)), role_(role) {}

  protected:
    template <typename Req, typename Resp, typename Self>
    void BindUnary(const char* method, void (Self::*handler)(const Caller&, const Req&, Resp*)) {
        Self* self = static_cast<Self*>(this);
        Add(method, Req::descriptor(), Resp::descriptor(), grpc::internal::RpcMethod::NORMAL_RPC,
            new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                [this, self, method, handler](grpc::CallbackServerContext* ctx,
                                              const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
                    return RunUnary(self, ctx, in, out, method, handler);
                }));
    }

    template <typename Req, typename Resp, typename Self>
    void BindLongPoll(const char* method, bool (Self::*attempt)(const Caller&, const Req&, Resp*)) {
        Self* self = static_cast<Self*>(this);
        Add(method, Req::descriptor(), Resp::descriptor(), grpc::internal::RpcMethod::NORMAL_RPC,
            new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                [this, self, method, attempt](grpc::CallbackServerContext* ctx,
                                              const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
                    return RunLongPoll(self, ctx, in, out, method, attempt);
                }));
    }

    template <typename Resp, typename Req, typename Self>
    void BindStream(const char* method,
                    grpc::ServerWriteReactor<grpc::ByteBuffer>* (Self::*handler)(
                        const Caller&, grpc::CallbackServerContext*, const Req&)) {
        Self* self = static_cast<Self*>(this);
        Add(method, Req::descriptor(), Resp::descriptor(),
            grpc::internal::RpcMethod::SERVER_STREAMING,
            new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                [this, self, handler](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in)
                    -> grpc::ServerWriteReactor<grpc::ByteBuffer>* {
                    Caller caller;
                    Req request;
                    const grpc::Status admitted =
                        AdmitValid(deps_, *ctx, role_, *in, &caller, &request);
                    if (!admitted.ok()) return new RefusedStream(admitted);
                    return (self->*handler)(caller, ctx, request);
                }));
    }

    void CheckAllBound() const {
        if (static_cast<int>(paths_.size()) != MethodCount(Generated::service_full_name())) {
            throw std::logic_error(std::string(Generated::service_full_name()) +
                                   ": a method has no handler");
        }
    }

    ServiceDeps deps_;
    Role role_;

  private:
    template <typename Req, typename Resp>
    struct UnaryCall {
        Caller caller;
        Req request;
        Resp response;
    };

    // Adds `method` (checked against the proto) with its handler, served raw.
    void Add(const char* method, const google::protobuf::Descriptor* request,
             const google::protobuf::Descriptor* response, grpc::internal::RpcMethod::RpcType type,
             grpc::internal::MethodHandler* handler) {
        MethodIndex(Generated::service_full_name(), method, request, response);
        paths_.push_back(std::string("/") + Generated::service_full_name() + "/" + method);
        auto* m = new grpc::internal::RpcServiceMethod(paths_.back().c_str(), type, handler);
        m->SetServerApiType(grpc::internal::RpcServiceMethod::ApiType::RAW_CALL_BACK);
        this->AddMethod(m);
    }

    template <typename Req, typename Resp, typename Self>
    grpc::ServerUnaryReactor* RunUnary(Self* self, grpc::CallbackServerContext* ctx,
                                       const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                       const char* method,
                                       void (Self::*handler)(const Caller&, const Req&, Resp*)) {
        auto* reactor = ctx->DefaultReactor();
        auto call = std::make_shared<UnaryCall<Req, Resp>>();
        const grpc::Status admitted =
            AdmitValid(deps_, *ctx, role_, *in, &call->caller, &call->request);
        if (!admitted.ok()) {
            reactor->Finish(admitted);
            return reactor;
        }
        const bool queued = deps_.pool->Submit([self, reactor, out, method, handler, call] {
            grpc::Status status = rpc::Guard(method, [&] {
                (self->*handler)(call->caller, call->request, &call->response);
                return grpc::Status::OK;
            });
            if (status.ok()) status = SerializeMessage(call->response, out);
            reactor->Finish(status);
        });
        if (!queued) reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
        return reactor;
    }

    template <typename Req, typename Resp, typename Self>
    grpc::ServerUnaryReactor* RunLongPoll(Self* self, grpc::CallbackServerContext* ctx,
                                          const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                          const char* method,
                                          bool (Self::*attempt)(const Caller&, const Req&, Resp*)) {
        auto* reactor = ctx->DefaultReactor();
        auto call = std::make_shared<UnaryCall<Req, Resp>>();
        const grpc::Status admitted =
            AdmitValid(deps_, *ctx, role_, *in, &call->caller, &call->request);
        if (!admitted.ok()) {
            reactor->Finish(admitted);
            return reactor;
        }
        auto state = std::make_shared<LongPollState>();
        state->deps = deps_;
        state->ctx = ctx;
        state->deadline = std::chrono::steady_clock::now() +
                          CappedWait(call->request.wait(), deps_.options.max_wait);
        state->method = method;
        state->attempt = [self, attempt, call] {
            return (self->*attempt)(call->caller, call->request, &call->response);
        };
        state->finish = [reactor, out, call](const grpc::Status& status) {
            grpc::Status s = status;
            if (s.ok()) s = SerializeMessage(call->response, out);
            reactor->Finish(s);
        };
        StartLongPoll(std::move(state));
        return reactor;
    }

    std::deque<std::string> paths_;  // RpcMethod keeps a pointer to its path
};

// Streams an artifact in chunks; the first carries its reference. The
// handler returns it at once; the executor fetches the artifact and calls
// Begin (or Fail) from there.
class ArtifactWriter : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
  public:
    explicit ArtifactWriter(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}
    void Begin(store::StoredArtifact artifact);
    void Fail(const grpc::Status& status) { Finish(status); }
    void OnWriteDone(bool ok) override;
    void OnDone() override { delete this; }

    // Returns a writer whose artifact `fetch` produces on the executor.
    static ArtifactWriter* Serve(const ServiceDeps& deps, const char* method,
                                 std::function<store::StoredArtifact()> fetch);

  private:
    void Next();
    store::StoredArtifact artifact_;
    size_t chunk_bytes_ = 0;
    size_t offset_ = 0;
    grpc::ByteBuffer chunk_;
};

}  // namespace hilnas::controller
