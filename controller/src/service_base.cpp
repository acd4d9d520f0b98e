#include "service_base.h"

#include <google/protobuf/util/time_util.h>

namespace hilnas::controller {

std::chrono::milliseconds CappedWait(const google::protobuf::Duration& wait,
                                     std::chrono::milliseconds cap) {
    const auto ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(wait);
    return std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, cap.count()));
}

void SetDuration(std::chrono::milliseconds d, google::protobuf::Duration* out) {
    *out = google::protobuf::util::TimeUtil::MillisecondsToDuration(d.count());
}

void ArtifactWriter::Begin(store::StoredArtifact artifact) {
    artifact_ = std::move(artifact);
    Next();
}

ArtifactWriter* ArtifactWriter::Serve(const ServiceDeps& deps, grpc::CallbackServerContext* ctx,
                                      Role role, const char* method,
                                      std::function<store::StoredArtifact()> fetch) {
    auto* writer = new ArtifactWriter(deps.options.artifact_chunk_bytes);
    if (const grpc::Status denied = deps.auth->Check(*ctx, role); !denied.ok()) {
        writer->Fail(denied);
        return writer;
    }
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
    chunk_.Clear();
    if (offset_ == 0) *chunk_.mutable_ref() = artifact_.ref;
    chunk_.set_offset(static_cast<int64_t>(offset_));
    const size_t n = std::min(chunk_bytes_, artifact_.data.size() - offset_);
    chunk_.set_data(artifact_.data.substr(offset_, n));
    offset_ += std::max<size_t>(n, 1);  // an empty artifact still sends its reference once
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
