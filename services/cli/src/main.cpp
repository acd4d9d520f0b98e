// hilnas: the user's command line.
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/version.h"

namespace {

struct Command {
    const char* name;
    const char* summary;
    int (*run)(const hilnas::cli::Args& args);
};

int Version(const hilnas::cli::Args& args) {
    if (!args.empty()) throw hilnas::InvalidArgument("takes no arguments", args.front());
    std::cout << "hilnas " << hilnas::Version() << "\n";
    return 0;
}

constexpr Command kCommands[] = {
    {"version", "print the version", Version},
    {"local", "run a private PostgreSQL for a one-machine stack", hilnas::cli::Local},
    {"ping", "check that a controller is up (gRPC health service)", hilnas::cli::Ping},
    {"submit", "submit a search job from a YAML spec", hilnas::cli::Submit},
    {"jobs", "list jobs, newest first", hilnas::cli::Jobs},
    {"job", "show one job", hilnas::cli::Job},
    {"trials", "list a job's trials (JSON lines)", hilnas::cli::Trials},
    {"watch", "follow a job to its end: a progress line on a terminal, JSON lines piped",
     hilnas::cli::Watch},
    {"front", "show a job's Pareto front and hypervolume", hilnas::cli::Front},
    {"export", "write a trial's model as its int8 artifact, C sources or a flashable ELF",
     hilnas::cli::Export},
    {"report", "write a job's results as one self-contained HTML page", hilnas::cli::Report},
    {"cancel", "cancel a job; running trials stop at their next heartbeat", hilnas::cli::Cancel},
    {"boards", "list the farm's boards: health, 24 h utilisation, what each measures now",
     hilnas::cli::Boards},
    {"workers", "list the trainer workers: device, datasets, live or not, trials leased",
     hilnas::cli::Workers},
    {"arch", "analyze a model's costs, or sample a search space", hilnas::cli::Arch},
    {"artifact", "make a random int8 artifact for a model, or show one", hilnas::cli::Artifact},
    {"codegen", "generate model.h and model.c from an int8 artifact", hilnas::cli::Codegen},
    {"firmware", "build a board's firmware for an artifact, with ELF sizes", hilnas::cli::Firmware},
};

void Usage(std::ostream& out) {
    out << "usage: hilnas COMMAND [options]   (hilnas COMMAND --help for its options)\n\n";
    for (const auto& c : kCommands) {
        out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
    }
}

// gRPC and libraries may hand us messages with newlines; a command's error is one line.
std::string OneLine(std::string text) {
    for (char& c : text) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return text;
}

// The exit status of an error (README, "Every hilnas subcommand answers bad
// input"): 2 for input that must change, 3 not found, 4 a precondition the
// state does not meet, 5 already exists, 1 for the world failing (retry).
int ExitStatus(hilnas::ErrorCode code) {
    switch (code) {
        case hilnas::ErrorCode::kNotFound:
            return 3;
        case hilnas::ErrorCode::kFailedPrecondition:
            return 4;
        case hilnas::ErrorCode::kAlreadyExists:
            return 5;
        default:
            return hilnas::IsCallersFault(code) ? 2 : 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        Usage(argc < 2 ? std::cerr : std::cout);
        return argc < 2 ? 2 : 0;
    }
    if (std::strcmp(argv[1], "--version") == 0) return Version({});
    const std::string name = argv[1];
    for (const auto& c : kCommands) {
        if (name != c.name) continue;
        try {
            return c.run(hilnas::cli::Args(argv + 2, argv + argc));
        } catch (const hilnas::Error& e) {
            std::cerr << "hilnas " << name << ": " << OneLine(e.what()) << "\n";
            return ExitStatus(e.code());
        } catch (const std::exception& e) {
            std::cerr << "hilnas " << name << ": internal error: " << OneLine(e.what()) << "\n";
            return 70;
        }
    }
    std::cerr << "hilnas: unknown command '" << name << "' (see hilnas --help)\n";
    return 2;
}
