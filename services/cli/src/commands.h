// Subcommands of the hilnas command. Each returns the process exit status and
// throws hilnas::Error for anything the user should read as one line.
#pragma once

#include <string>
#include <vector>

#include "hilnas/common/config.h"
#include "hilnas/rpc/channel.h"

namespace hilnas::firmware {
struct BuildOptions;
struct FirmwareBuild;
}  // namespace hilnas::firmware

namespace hilnas::cli {

using Args = std::vector<std::string>;

int Ping(const Args& args);
int Arch(const Args& args);
int Codegen(const Args& args);
int Artifact(const Args& args);
int Firmware(const Args& args);
int Submit(const Args& args);
int Jobs(const Args& args);
int Job(const Args& args);
int Trials(const Args& args);
int Front(const Args& args);
int Cancel(const Args& args);
int Watch(const Args& args);
int Local(const Args& args);
int Export(const Args& args);
int Report(const Args& args);
int Boards(const Args& args);
int Workers(const Args& args);

// A firmware build as one JSON object: board, ELF path `elf`, toolchain,
// runtime, section sizes, flash and static RAM bytes, arena bytes.
std::string DescribeFirmwareBuild(const firmware::FirmwareBuild& build,
                                  const firmware::BuildOptions& options, const std::string& elf);

// Options every command that talks to the controller takes.
void AddClientOptions(ConfigSchema& schema);
struct ClientOptions {
    std::string controller;
    std::chrono::milliseconds timeout{0};
    rpc::ChannelOptions channel;
};
ClientOptions ClientOptionsFrom(const Config& config);

// Loads `schema` from `args` and the environment; prints help and returns
// nullopt-equivalent (false) when --help was asked for.
bool LoadOrHelp(const std::string& usage, const ConfigSchema& schema, const Args& args,
                Config& config);

}  // namespace hilnas::cli
