// The boundary between hilnas errors and gRPC statuses.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "hilnas/common/errors.h"

namespace hilnas::rpc {

// The canonical status for an error; the message names the field when there is one.
grpc::Status ToStatus(const Error& error);

// Runs `fn` (returning grpc::Status) and maps anything it throws: a hilnas
// Error to its code, anything else to INTERNAL with a generic message (the
// details go to the log, never to the client).
template <typename Fn>
grpc::Status Guard(const char* method, Fn&& fn);

// "UNAVAILABLE: failed to connect to all addresses" for command-line errors.
std::string DescribeStatus(const grpc::Status& status);

grpc::Status InternalError(const char* method, const char* what);

// The client side of the boundary: throws the hilnas error for a failed call
// (INVALID_ARGUMENT -> InvalidArgument, ..., UNAVAILABLE, ABORTED and CANCELLED
// -> Unavailable, anything unknown -> Internal), its message "Method: CODE: text".
[[noreturn]] void ThrowStatus(const grpc::Status& status, const char* method);

template <typename Fn>
grpc::Status Guard(const char* method, Fn&& fn) {
    try {
        return fn();
    } catch (const Error& e) {
        return ToStatus(e);
    } catch (const std::exception& e) {
        return InternalError(method, e.what());
    } catch (...) {
        return InternalError(method, "unknown exception");
    }
}

}  // namespace hilnas::rpc
