// hilnas codegen | artifact | firmware: the int8 model artifact, its C, and its firmware.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/build.h"
#include "hilnas/firmware/codegen.h"

namespace hilnas::cli {

namespace {

std::string OnlyPositional(const Config& config, const char* what) {
    if (config.positional().size() != 1) throw InvalidArgument("give exactly one file", what);
    return config.positional()[0];
}

std::string ReadText(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InvalidArgument("cannot read the file", path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::string DescribeFirmwareBuild(const firmware::FirmwareBuild& build,
                                  const firmware::BuildOptions& options, const std::string& elf) {
    nlohmann::ordered_json j;
    j["board"] = options.board;
    j["elf"] = elf;
    j["toolchain"] = build.toolchain;
    j["runtime"] = options.runtime_variant;
    j["energy_mode"] = options.energy_mode;
    j["sections"] = {{".isr_vector", build.sizes.isr_vector},
                     {".text", build.sizes.text},
                     {".rodata", build.sizes.rodata},
                     {".ARM.exidx", build.sizes.exidx},
                     {".data", build.sizes.data},
                     {".bss", build.sizes.bss},
                     {".stack", build.sizes.stack}};
    j["flash_bytes"] = build.sizes.flash_bytes();
    j["static_ram_bytes"] = build.sizes.static_ram_bytes();
    j["arena_bytes"] = build.arena_bytes;
    return j.dump();
}

int Codegen(const Args& args) {
    ConfigSchema schema;
    schema.Add({"o", OptionType::kString, "", "output directory for model.h and model.c"});
    Config config;
    if (!LoadOrHelp("hilnas codegen ARTIFACT -o DIR", schema, args, config)) return 0;
    const std::string path = OnlyPositional(config, "ARTIFACT");
    if (config.GetString("o").empty()) throw InvalidArgument("needs an output directory", "-o");
    const auto generated = firmware::GenerateModel(artifact::ReadArtifact(path));
    firmware::WriteGeneratedModel(generated, config.GetString("o"));
    nlohmann::ordered_json j;
    j["dir"] = config.GetString("o");
    j["arena_bytes"] = generated.arena_bytes;
    j["const_bytes"] = generated.weight_bytes;
    std::cout << j.dump() << "\n";
    return 0;
}

int Artifact(const Args& args) {
    if (args.empty() || (args[0] != "random" && args[0] != "show")) {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::cout << "usage: hilnas artifact random MODEL.json -o FILE [--seed S]\n"
                         "       hilnas artifact show FILE\n";
            return 0;
        }
        throw InvalidArgument("give random or show (see hilnas artifact --help)",
                              args.empty() ? "subcommand" : args[0]);
    }
    const Args rest(args.begin() + 1, args.end());
    ConfigSchema schema;
    if (args[0] == "random") {
        schema.Add({"o", OptionType::kString, "", "the artifact file to write"})
            .Add({"seed", OptionType::kInt, "1", "random seed"});
        Config config;
        if (!LoadOrHelp("hilnas artifact random MODEL.json -o FILE [--seed S]", schema, rest,
                        config)) {
            return 0;
        }
        const std::string path = OnlyPositional(config, "MODEL.json");
        if (config.GetString("o").empty()) throw InvalidArgument("needs an output file", "-o");
        arch::Model model;
        try {
            model = arch::ModelFromJson(ReadText(path));
        } catch (const InvalidArgument& e) {
            throw InvalidArgument(e.message(), path + ": " + e.field());
        }
        const auto artifact =
            artifact::RandomArtifact(model, static_cast<uint64_t>(config.GetInt("seed")));
        artifact::WriteArtifact(config.GetString("o"), artifact);
        std::cout << "{\"file\":\"" << config.GetString("o") << "\",\"sha256\":\""
                  << artifact.sha256() << "\"}\n";
        return 0;
    }
    Config config;
    if (!LoadOrHelp("hilnas artifact show FILE", schema, rest, config)) return 0;
    const std::string path = OnlyPositional(config, "FILE");
    const auto artifact = artifact::ReadArtifact(path);
    const auto graph = artifact::ValidateArtifact(artifact);
    nlohmann::ordered_json j;
    j["file"] = path;
    j["sha256"] = artifact.sha256();
    j["format_version"] = artifact.format_version();
    j["producer"] = artifact.producer();
    j["model"] = graph.model.name;
    j["layers"] = graph.num_layers();
    j["input_shape"] = {graph.tensors.front().h, graph.tensors.front().w, graph.tensors.front().c};
    j["input_scale"] = artifact.input().scale();
    j["input_zero_point"] = artifact.input().zero_point();
    std::cout << j.dump() << "\n";
    return 0;
}

int Firmware(const Args& args) {
    if (args.empty() || args[0] != "build") {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::cout << "usage: hilnas firmware build --board BOARD ARTIFACT -o DIR [--runtime "
                         "cortex_m|reference] [--energy-mode]\n";
            return 0;
        }
        throw InvalidArgument("give build (see hilnas firmware --help)",
                              args.empty() ? "subcommand" : args[0]);
    }
    ConfigSchema schema;
    const std::string boards = catalog::BoardTypeNames();
    schema.Add({"board", OptionType::kString, "", "one of " + boards})
        .Add({"o", OptionType::kString, "", "output directory"})
        .Add({"runtime", OptionType::kString, "cortex_m", "kernels: cortex_m (DSP) or reference"})
        .Add({"energy_mode", OptionType::kBool, "false",
              "MLPerf Tiny energy mode: timestamps on the board's timestamp pin"});
    Config config;
    if (!LoadOrHelp("hilnas firmware build --board BOARD ARTIFACT -o DIR", schema,
                    Args(args.begin() + 1, args.end()), config)) {
        return 0;
    }
    const std::string path = OnlyPositional(config, "ARTIFACT");
    if (config.GetString("board").empty())
        throw InvalidArgument("is required (" + boards + ")", "--board");
    catalog::FindBoardType(config.GetString("board"), "--board");  // before reading the file
    firmware::BuildOptions options;
    options.board = config.GetString("board");
    options.out_dir = config.GetString("o");
    options.runtime_variant = config.GetString("runtime");
    options.energy_mode = config.GetBool("energy_mode");
    const auto build = firmware::BuildFirmware(artifact::ReadArtifact(path), options);
    std::cout << DescribeFirmwareBuild(build, options, build.elf) << "\n";
    return 0;
}

}  // namespace hilnas::cli
