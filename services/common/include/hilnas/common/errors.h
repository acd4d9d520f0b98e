// A small error hierarchy shared by every part of hilnas.
//
// Errors carry a canonical code so the gRPC boundary can map them without
// guessing (services/rpc), and split into the caller's fault (bad input: fix
// the request) and the world's fault (a server down, a time-out: retry).
#pragma once

#include <stdexcept>
#include <string>

namespace hilnas {

enum class ErrorCode {
    kInvalidArgument,     // caller: a malformed value; field() names it
    kNotFound,            // caller: an id that does not exist
    kAlreadyExists,       // caller
    kFailedPrecondition,  // caller: the request is valid but not in this state
    kPermissionDenied,    // caller
    kUnauthenticated,     // caller
    kResourceExhausted,   // caller: over a configured limit
    kUnavailable,         // world: a dependency cannot be reached; retry
    kDeadlineExceeded,    // world: a time-out
    kInternal,            // a bug
};

// "INVALID_ARGUMENT", "NOT_FOUND", ...: the canonical gRPC name.
const char* ErrorCodeName(ErrorCode code);

// True for errors a caller can fix by changing the request.
bool IsCallersFault(ErrorCode code);

class Error : public std::runtime_error {
  public:
    // what() is "field: message" when a field is given, else "message".
    Error(ErrorCode code, std::string message, std::string field = {});

    ErrorCode code() const noexcept { return code_; }
    const std::string& field() const noexcept { return field_; }
    const std::string& message() const noexcept { return message_; }

  private:
    ErrorCode code_;
    std::string field_;
    std::string message_;
};

#define HILNAS_DEFINE_ERROR(Name, Code)                                       \
    class Name : public Error {                                               \
      public:                                                                 \
        explicit Name(std::string message, std::string field = {})            \
            : Error(ErrorCode::Code, std::move(message), std::move(field)) {} \
    };

HILNAS_DEFINE_ERROR(InvalidArgument, kInvalidArgument)
HILNAS_DEFINE_ERROR(NotFound, kNotFound)
HILNAS_DEFINE_ERROR(AlreadyExists, kAlreadyExists)
HILNAS_DEFINE_ERROR(FailedPrecondition, kFailedPrecondition)
HILNAS_DEFINE_ERROR(PermissionDenied, kPermissionDenied)
HILNAS_DEFINE_ERROR(Unauthenticated, kUnauthenticated)
HILNAS_DEFINE_ERROR(ResourceExhausted, kResourceExhausted)
HILNAS_DEFINE_ERROR(Unavailable, kUnavailable)
HILNAS_DEFINE_ERROR(DeadlineExceeded, kDeadlineExceeded)
HILNAS_DEFINE_ERROR(Internal, kInternal)

#undef HILNAS_DEFINE_ERROR

}  // namespace hilnas
