#include "hilnas/common/errors.h"

#include <utility>

namespace hilnas {

const char* ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "INVALID_ARGUMENT";
        case ErrorCode::kNotFound:
            return "NOT_FOUND";
        case ErrorCode::kAlreadyExists:
            return "ALREADY_EXISTS";
        case ErrorCode::kFailedPrecondition:
            return "FAILED_PRECONDITION";
        case ErrorCode::kPermissionDenied:
            return "PERMISSION_DENIED";
        case ErrorCode::kUnauthenticated:
            return "UNAUTHENTICATED";
        case ErrorCode::kResourceExhausted:
            return "RESOURCE_EXHAUSTED";
        case ErrorCode::kUnavailable:
            return "UNAVAILABLE";
        case ErrorCode::kDeadlineExceeded:
            return "DEADLINE_EXCEEDED";
        case ErrorCode::kInternal:
            return "INTERNAL";
    }
    return "INTERNAL";
}

bool IsCallersFault(ErrorCode code) {
    switch (code) {
        case ErrorCode::kUnavailable:
        case ErrorCode::kDeadlineExceeded:
        case ErrorCode::kInternal:
            return false;
        default:
            return true;
    }
}

namespace {
std::string Compose(const std::string& field, const std::string& message) {
    return field.empty() ? message : field + ": " + message;
}
}  // namespace

Error::Error(ErrorCode code, std::string message, std::string field)
    : std::runtime_error(Compose(field, message)),
      code_(code),
      field_(std::move(field)),
      message_(std::move(message)) {}

}  // namespace hilnas
