#include "service_base.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

namespace hilnas::controller {

std::chrono::milliseconds CappedWait(const google::protobuf::Duration& wait,
                                     std::chrono::milliseconds cap) {
    const auto ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(wait);
    return std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, cap.count()));
}

void SetDuration(std::chrono::milliseconds d, google::protobuf::Duration* out) {
    *out = google::protobuf::util::TimeUtil::MillisecondsToDuration(d.count());
}

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t) {
    return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

void SetHeartbeat(const store::LeaseRenewal& renewal, v1::LeaseHeartbeatResponse* out) {
    out->set_action(renewal.action);
    if (renewal.expires_at) *out->mutable_expires_at() = ToTimestamp(*renewal.expires_at);
    out->set_reason(renewal.reason);
}

grpc::Status ParseRequest(const grpc::ByteBuffer& in, google::protobuf::Message* request) {
    grpc::ByteBuffer copy(in);  // the reader consumes its buffer
    grpc::ProtoBufferReader reader(&copy);
    if (!request->ParseFromZeroCopyStream(&reader)) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "request: cannot be parsed as " + request->GetTypeName());
    }
    return grpc::Status::OK;
}

grpc::Status SerializeMessage(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
    const size_t size = message.ByteSizeLong();
    if (size > static_cast<size_t>(INT32_MAX)) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "response: too large to send");
    }
    grpc::ProtoBufferWriter writer(out, grpc::kProtoBufferWriterMaxBufferLength,
                                   static_cast<int>(size));
    if (!message.SerializeToZeroCopyStream(&writer)) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "response: cannot be serialised");
    }
    return grpc::Status::OK;
}

grpc::Status Admit(const ServiceDeps& deps, const grpc::CallbackServerContext& ctx, Role role,
                   const grpc::ByteBuffer& in, Caller* caller, google::protobuf::Message* request) {
    if (grpc::Status s = deps.auth->Authenticate(ctx, role, caller); !s.ok()) return s;
    return ParseRequest(in, request);
}

int MethodIndex(const char* service, const char* method,
                const google::protobuf::Descriptor* request,
                const google::protobuf::Descriptor* response) {
    const auto* s = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    const auto* m = s == nullptr ? nullptr : s->FindMethodByName(method);
    if (m == nullptr || m->input_type() != request || m->output_type() != response) {
        throw std::logic_error(std::string(service) + "." + method +
                               ": no such method with these message types");
    }
    return m->index();
}

int MethodCount(const char* service) {
    const auto* s = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    return s == nullptr ? -1 : s->method_count();
}

namespace {

void PollOnce(const std::shared_ptr<LongPollState>& state) {
    bool done = false;
    const grpc::Status status = rpc::Guard(state->method, [&] {
        done = state->attempt();
        return grpc::Status::OK;
    });
    if (!status.ok() || done || state->ctx->IsCancelled() ||
        std::chrono::steady_clock::now() >= state->deadline) {
        state->finish(status);
    } else if (!state->deps.timer->After(state->deps.options.poll_interval,
                                         [state] { PollOnce(state); })) {
        state->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
}

}  // namespace

void StartLongPoll(std::shared_ptr<LongPollState> state) {
    if (!state->deps.pool->Submit([state] { PollOnce(state); })) {
        state->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
}

void ArtifactWriter::Begin(store::StoredArtifact artifact) {
    artifact_ = std::move(artifact);
    Next();
}

ArtifactWriter* ArtifactWriter::Serve(const ServiceDeps& deps, const char* method,
                                      std::function<store::StoredArtifact()> fetch) {
    auto* writer = new ArtifactWriter(deps.options.artifact_chunk_bytes);
    const bool queued = deps.pool->Submit([writer, method, fetch = std::move(fetch)] {
        store::StoredArtifact artifact;
        const grpc::Status status = rpc::Guard(method, [&] {
            artifact = fetch();
            return grpc::Status::OK;
        });
        if (status.ok()) {
            writer->Begin(std::move(artifact));
        } else {
            writer->Fail(status);
        }
    });
    if (!queued) writer->Fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    return writer;
}

void ArtifactWriter::Next() {
    if (offset_ >= artifact_.data.size() && offset_ > 0) {
        Finish(grpc::Status::OK);
        return;
    }
    v1::ArtifactChunk chunk;
    if (offset_ == 0) *chunk.mutable_ref() = artifact_.ref;
    chunk.set_offset(static_cast<int64_t>(offset_));
    const size_t n = std::min(chunk_bytes_, artifact_.data.size() - offset_);
    chunk.set_data(artifact_.data.substr(offset_, n));
    offset_ += std::max<size_t>(n, 1);  // an empty artifact still sends its reference once
    chunk_.Clear();
    if (const grpc::Status s = SerializeMessage(chunk, &chunk_); !s.ok()) {
        Finish(s);
        return;
    }
    StartWrite(&chunk_);
}

void ArtifactWriter::OnWriteDone(bool ok) {
    if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
        return;
    }
    Next();
}

}  // namespace hilnas::controller
