// How a trainer worker or a board agent reaches the controller: one set of
// options (controller, token, ca_cert, lease_wait) with one meaning, read the
// same way by both.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "hilnas/common/config.h"

namespace hilnas::rpc {

struct ControllerClientOptions {
    std::string address;       // host:port of the controller
    std::string token;         // bearer token; empty: none
    std::string ca_cert_path;  // empty: plaintext
    std::chrono::milliseconds call_timeout{30000};
};

// Adds `controller` (described as `controller_help`), `token` (described as
// `token_help`, a secret) and `ca_cert` to `schema`.
void AddControllerClientOptions(
    ConfigSchema& schema, std::string_view token_help,
    std::string_view controller_help = "controller address HOST:PORT; required");
// Adds `lease_wait`, the long-poll of each lease request.
void AddLeaseWaitOption(ConfigSchema& schema);

// The options as `config` holds them. With `required`, an empty controller is
// InvalidArgument on "controller".
ControllerClientOptions ControllerClientOptionsFrom(const Config& config, bool required = true);

}  // namespace hilnas::rpc
