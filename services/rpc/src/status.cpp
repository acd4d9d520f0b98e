#include "hilnas/rpc/status.h"

#include <spdlog/spdlog.h>

namespace hilnas::rpc {

namespace {

grpc::StatusCode ToCode(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return grpc::StatusCode::INVALID_ARGUMENT;
        case ErrorCode::kNotFound:
            return grpc::StatusCode::NOT_FOUND;
        case ErrorCode::kAlreadyExists:
            return grpc::StatusCode::ALREADY_EXISTS;
        case ErrorCode::kFailedPrecondition:
            return grpc::StatusCode::FAILED_PRECONDITION;
        case ErrorCode::kPermissionDenied:
            return grpc::StatusCode::PERMISSION_DENIED;
        case ErrorCode::kUnauthenticated:
            return grpc::StatusCode::UNAUTHENTICATED;
        case ErrorCode::kResourceExhausted:
            return grpc::StatusCode::RESOURCE_EXHAUSTED;
        case ErrorCode::kUnavailable:
            return grpc::StatusCode::UNAVAILABLE;
        case ErrorCode::kDeadlineExceeded:
            return grpc::StatusCode::DEADLINE_EXCEEDED;
        case ErrorCode::kInternal:
            return grpc::StatusCode::INTERNAL;
    }
    return grpc::StatusCode::INTERNAL;
}

const char* CodeName(grpc::StatusCode code) {
    switch (code) {
        case grpc::StatusCode::OK:
            return "OK";
        case grpc::StatusCode::CANCELLED:
            return "CANCELLED";
        case grpc::StatusCode::UNKNOWN:
            return "UNKNOWN";
        case grpc::StatusCode::INVALID_ARGUMENT:
            return "INVALID_ARGUMENT";
        case grpc::StatusCode::DEADLINE_EXCEEDED:
            return "DEADLINE_EXCEEDED";
        case grpc::StatusCode::NOT_FOUND:
            return "NOT_FOUND";
        case grpc::StatusCode::ALREADY_EXISTS:
            return "ALREADY_EXISTS";
        case grpc::StatusCode::PERMISSION_DENIED:
            return "PERMISSION_DENIED";
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            return "RESOURCE_EXHAUSTED";
        case grpc::StatusCode::FAILED_PRECONDITION:
            return "FAILED_PRECONDITION";
        case grpc::StatusCode::ABORTED:
            return "ABORTED";
        case grpc::StatusCode::OUT_OF_RANGE:
            return "OUT_OF_RANGE";
        case grpc::StatusCode::UNIMPLEMENTED:
            return "UNIMPLEMENTED";
        case grpc::StatusCode::INTERNAL:
            return "INTERNAL";
        case grpc::StatusCode::UNAVAILABLE:
            return "UNAVAILABLE";
        case grpc::StatusCode::DATA_LOSS:
            return "DATA_LOSS";
        case grpc::StatusCode::UNAUTHENTICATED:
            return "UNAUTHENTICATED";
        default:
            return "UNKNOWN";
    }
}

}  // namespace

grpc::Status ToStatus(const Error& error) {
    if (error.code() == ErrorCode::kInternal) {
        return InternalError("(handler)", error.what());
    }
    return grpc::Status(ToCode(error.code()), error.what());
}

grpc::Status InternalError(const char* method, const char* what) {
    spdlog::error("{}: internal error: {}", method, what);
    return grpc::Status(grpc::StatusCode::INTERNAL, "internal error (logged by the server)");
}

std::string DescribeStatus(const grpc::Status& status) {
    std::string text = CodeName(status.error_code());
    if (!status.error_message().empty()) text += ": " + status.error_message();
    return text;
}

}  // namespace hilnas::rpc

namespace hilnas::rpc {

void ThrowStatus(const grpc::Status& s, const char* method) {
    const std::string what = std::string(method) + ": " + DescribeStatus(s);
    switch (s.error_code()) {
        case grpc::StatusCode::INVALID_ARGUMENT:
            throw InvalidArgument(what);
        case grpc::StatusCode::NOT_FOUND:
            throw NotFound(what);
        case grpc::StatusCode::ALREADY_EXISTS:
            throw AlreadyExists(what);
        case grpc::StatusCode::FAILED_PRECONDITION:
            throw FailedPrecondition(what);
        case grpc::StatusCode::PERMISSION_DENIED:
            throw PermissionDenied(what);
        case grpc::StatusCode::UNAUTHENTICATED:
            throw Unauthenticated(what);
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            throw ResourceExhausted(what);
        case grpc::StatusCode::DEADLINE_EXCEEDED:
            throw DeadlineExceeded(what);
        case grpc::StatusCode::UNAVAILABLE:
        case grpc::StatusCode::ABORTED:
        case grpc::StatusCode::CANCELLED:
            throw Unavailable(what);
        default:
            throw Internal(what);
    }
}

}  // namespace hilnas::rpc
