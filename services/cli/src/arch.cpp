// hilnas arch analyze | sample: the IR, cost model and search space from the command line.
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "hilnas/arch/cost.h"
#include "hilnas/arch/flash.h"
#include "hilnas/arch/space.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/errors.h"
#include "hilnas/dataset/dataset.h"

namespace hilnas::cli {

namespace {

std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InvalidArgument("cannot read the file", path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

arch::PlanStrategy ParseStrategy(const std::string& name) {
    for (auto s : {arch::PlanStrategy::kBest, arch::PlanStrategy::kGreedyBySize,
                   arch::PlanStrategy::kNaive}) {
        if (name == arch::StrategyName(s)) return s;
    }
    throw InvalidArgument("must be best, greedy-by-size or naive, not '" + name + "'", "--planner");
}

int Analyze(const Args& args) {
    ConfigSchema schema;
    schema.Add({"layers", OptionType::kBool, "false", "also print one row per layer"})
        .Add({"planner", OptionType::kString, "best", "memory plan: best, greedy-by-size or naive"})
        .Add({"board", OptionType::kString, std::string(arch::kDefaultFlashBoard),
              "board type whose firmware the flash figure is for"});
    Config config;
    if (!LoadOrHelp("hilnas arch analyze MODEL.json [--layers] [--planner NAME] [--board TYPE]",
                    schema, args, config)) {
        return 0;
    }
    if (config.positional().size() != 1) {
        throw InvalidArgument("give exactly one model file", "MODEL.json");
    }
    const std::string& path = config.positional()[0];
    arch::Graph graph;
    try {
        graph = arch::Analyze(arch::ModelFromJson(ReadFile(path)));
    } catch (const InvalidArgument& e) {
        // The message already names the layer; say which file too.
        throw InvalidArgument(e.message(), path + ": " + e.field());
    }
    const std::string board = config.GetString("board");
    try {
        arch::FindFlashCalibration(board);
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(e.message(), "--board");
    }
    const auto report = arch::ComputeCost(graph, ParseStrategy(config.GetString("planner")),
                                          arch::RuntimeScratchBytes, board);
    std::cout << arch::CostReportToJson(graph, report, config.GetBool("layers")) << "\n";
    return 0;
}

int Sample(const Args& args) {
    ConfigSchema schema;
    schema
        .Add({"space", OptionType::kString, "",
              "search space YAML: a job spec, or its search_space section (empty: the defaults)"})
        .Add({"dataset", OptionType::kString, "",
              "dataset whose input shape and classes the models take (empty: the job spec's, "
              "else fashion-mnist)"})
        .Add({"n", OptionType::kInt, "5", "how many models"})
        .Add({"seed", OptionType::kInt, "1", "random seed"})
        .Add({"genes", OptionType::kBool, "false", "print the genes, not the model IR"});
    Config config;
    if (!LoadOrHelp(
            "hilnas arch sample [--space FILE] [--dataset NAME] [--n N] [--seed S] [--genes]",
            schema, args, config)) {
        return 0;
    }
    if (!config.positional().empty()) {
        throw InvalidArgument("unexpected argument", config.positional().front());
    }
    const std::string& dataset_name = config.GetString("dataset");
    if (!dataset_name.empty()) {
        try {
            dataset::FindDataset(dataset_name);
        } catch (const InvalidArgument& e) {
            throw InvalidArgument(e.message(), "--dataset");
        }
    }
    const std::string& file = config.GetString("space");
    const arch::SearchSpace space =
        SearchSpaceFromYaml(file.empty() ? "" : ReadFile(file), file, dataset_name);
    const int64_t n = config.GetInt("n");
    if (n < 0 || n > 1000000) throw InvalidArgument("must be between 0 and 1000000", "--n");
    std::mt19937_64 rng(static_cast<uint64_t>(config.GetInt("seed")));
    for (int64_t i = 0; i < n; ++i) {
        const arch::Point point = arch::Sample(space, rng);
        if (config.GetBool("genes")) {
            std::cout << arch::PointToJson(point) << "\n";
        } else {
            std::cout << arch::ModelToJson(
                             arch::BuildModel(space, point, "sample-" + std::to_string(i)))
                      << "\n";
        }
    }
    return 0;
}

}  // namespace

int Arch(const Args& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::cout
            << "usage: hilnas arch analyze MODEL.json [--layers]\n"
               "       hilnas arch sample [--space FILE] [--dataset NAME] [--n N] [--seed S]\n";
        return 0;
    }
    if (args.empty()) {
        throw InvalidArgument("give analyze or sample (see hilnas arch --help)", "subcommand");
    }
    const Args rest(args.begin() + 1, args.end());
    if (args[0] == "analyze") return Analyze(rest);
    if (args[0] == "sample") return Sample(rest);
    throw InvalidArgument("unknown subcommand (analyze or sample)", "arch " + args[0]);
}

}  // namespace hilnas::cli
