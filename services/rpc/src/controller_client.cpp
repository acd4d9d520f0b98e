#include "hilnas/rpc/controller_client.h"

#include "hilnas/common/errors.h"

namespace hilnas::rpc {

void AddControllerClientOptions(ConfigSchema& schema, std::string_view token_help,
                                std::string_view controller_help) {
    schema.Add({"controller", OptionType::kString, "", std::string(controller_help)});
    schema.Add({"token", OptionType::kString, "", std::string(token_help), true});
    schema.Add({"ca_cert", OptionType::kString, "", "CA bundle for TLS (empty: plaintext)"});
}

void AddLeaseWaitOption(ConfigSchema& schema) {
    schema.Add({"lease_wait", OptionType::kDuration, "10s", "long-poll per lease request"});
}

ControllerClientOptions ControllerClientOptionsFrom(const Config& config, bool required) {
    ControllerClientOptions o;
    o.address = config.GetString("controller");
    o.token = config.GetString("token");
    o.ca_cert_path = config.GetString("ca_cert");
    if (required && o.address.empty()) throw InvalidArgument("is required", "controller");
    return o;
}

}  // namespace hilnas::rpc
