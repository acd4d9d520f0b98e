#include <iostream>

#include "commands.h"
#include "hilnas/common/errors.h"

namespace hilnas::cli {

void AddClientOptions(ConfigSchema& schema) {
    schema.Add({"controller", OptionType::kString, "127.0.0.1:50051", "controller address"})
        .Add({"timeout", OptionType::kDuration, "10s", "deadline of each call"})
        .Add({"token", OptionType::kString, "", "bearer token", true})
        .Add({"ca_cert", OptionType::kString, "", "CA bundle for a TLS controller"});
}

ClientOptions ClientOptionsFrom(const Config& config) {
    ClientOptions options;
    options.controller = config.GetString("controller");
    options.timeout = config.GetDuration("timeout");
    if (options.timeout.count() <= 0) throw InvalidArgument("must be positive", "--timeout");
    options.channel.token = config.GetString("token");
    options.channel.ca_cert_path = config.GetString("ca_cert");
    return options;
}

bool LoadOrHelp(const std::string& usage, const ConfigSchema& schema, const Args& args,
                Config& config) {
    config = Config::Load(schema, args, ProcessEnvironment());
    if (config.help_requested()) {
        std::cout << "usage: " << usage << "\n\n" << schema.Help();
        return false;
    }
    return true;
}

}  // namespace hilnas::cli
