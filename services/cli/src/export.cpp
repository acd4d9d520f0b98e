// hilnas export: one trial's model, fetched from the controller, as the int8
// artifact, as C sources for a firmware project, or as a flashable ELF.
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/build.h"
#include "hilnas/firmware/codegen.h"
#include "session.h"

namespace hilnas::cli {

namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    "hilnas export JOB_ID TRIAL --kind artifact|c|elf [--board TYPE] [--runtime "
    "cortex_m|reference] -o PATH   (TRIAL: the trial's id or its number in the job)";

bool IsNumber(const std::string& text) {
    return !text.empty() && text.size() < 10 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

// The trial `which` (an id, or a number within the job) of job `job_id`.
v1::Trial FindTrial(const Session& s, const std::string& job_id, const std::string& which) {
    if (IsNumber(which)) {
        for (v1::Trial& t : s.ListTrials(job_id)) {
            if (std::to_string(t.number()) == which) return std::move(t);
        }
        throw InvalidArgument("job " + job_id + " has no trial number " + which, "TRIAL");
    }
    v1::GetTrialRequest req;
    req.set_trial_id(which);
    v1::Trial trial;
    auto ctx = s.Context();
    Check(s.stub->GetTrial(ctx.get(), req, &trial), s.client);
    if (trial.job_id() != job_id) {
        throw InvalidArgument(
            "trial " + which + " belongs to job " + trial.job_id() + ", not " + job_id, "TRIAL");
    }
    return trial;
}

// The trial's int8 artifact over GetArtifact, checked against the digest the
// controller sent and parsed (which checks the model's own identity).
v1::Int8Model FetchModel(const Session& s, const v1::Trial& trial) {
    v1::GetArtifactRequest req;
    req.set_trial_id(trial.trial_id());
    req.set_kind(v1::ARTIFACT_INT8_MODEL);
    auto ctx = s.Context();
    auto reader = s.stub->GetArtifact(ctx.get(), req);
    v1::ArtifactChunk chunk;
    v1::ArtifactRef ref;
    std::string bytes;
    while (reader->Read(&chunk)) {
        if (chunk.has_ref()) ref = chunk.ref();
        if (chunk.offset() != static_cast<int64_t>(bytes.size())) {
            throw Unavailable("the artifact stream skipped from byte " +
                                  std::to_string(bytes.size()) + " to " +
                                  std::to_string(chunk.offset()),
                              "controller " + s.client.controller);
        }
        bytes += chunk.data();
    }
    Check(reader->Finish(), s.client);
    const std::string what = "trial " + std::to_string(trial.number()) + "'s artifact";
    if (!ref.sha256().empty() && artifact::Sha256Hex(bytes) != ref.sha256()) {
        throw Unavailable(
            "arrived with sha256 " + artifact::Sha256Hex(bytes) + ", not " + ref.sha256(), what);
    }
    return artifact::ParseArtifact(bytes, what);
}

// The runtime's headers and sources beside the generated model, so a
// firmware project compiles model.c with nothing else from hilnas.
std::vector<std::string> CopyRuntime(const fs::path& out) {
    const fs::path runtime = fs::path(firmware::FirmwareSourceDir()) / "runtime";
    std::vector<std::string> copied;
    for (const char* part : {"include", "src"}) {
        const fs::path from = runtime / part;
        if (!fs::is_directory(from)) {
            throw Unavailable("runtime sources not found (set HILNAS_FIRMWARE_DIR)", from.string());
        }
        fs::create_directories(out / "hilnas_nn" / part);
        fs::copy(from, out / "hilnas_nn" / part,
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    }
    for (const auto& entry : fs::recursive_directory_iterator(out / "hilnas_nn")) {
        if (entry.is_regular_file()) copied.push_back(fs::relative(entry.path(), out).string());
    }
    std::sort(copied.begin(), copied.end());
    return copied;
}

// A private directory under $TMPDIR, removed on destruction.
class ScratchDir {
  public:
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "hilnas-export-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw Unavailable("cannot create a temporary directory", tmpl);
        }
        path_ = tmpl;
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

}  // namespace

int Export(const Args& args) {
    Session s;
    if (!Open(kUsage, args, s,
              {{"kind", OptionType::kString, "", "artifact, c or elf"},
               {"board", OptionType::kString, "",
                "elf: board type (" + catalog::BoardTypeNames() + "); empty: the job's"},
               {"runtime", OptionType::kString, "cortex_m",
                "elf: kernels, cortex_m (DSP) or reference"},
               {"o", OptionType::kString, "",
                "artifact, elf: the file to write; c: the directory"}})) {
        return 0;
    }
    // Everything the user typed is checked before anything is fetched.
    const std::string kind = s.config.GetString("kind");
    if (kind != "artifact" && kind != "c" && kind != "elf") {
        throw InvalidArgument(kind.empty() ? "is required (artifact, c or elf)"
                                           : "must be artifact, c or elf, not '" + kind + "'",
                              "--kind");
    }
    if (s.config.positional().size() != 2) throw InvalidArgument("give JOB_ID and TRIAL", "usage");
    const std::string out = s.config.GetString("o");
    if (out.empty()) throw InvalidArgument("is required: where to write", "-o");
    const std::string board_flag = s.config.GetString("board");
    if (!board_flag.empty()) catalog::FindBoardType(board_flag, "--board");
    const std::string runtime = s.config.GetString("runtime");
    if (runtime != "cortex_m" && runtime != "reference") {
        throw InvalidArgument("must be cortex_m or reference, not '" + runtime + "'", "--runtime");
    }
    if (kind != "elf" && s.config.SourceOf("board") != Config::Source::kDefault) {
        throw InvalidArgument("applies to --kind elf only", "--board");
    }

    const std::string& job_id = s.config.positional()[0];
    const v1::Job job = s.GetJob(job_id);
    const v1::Trial trial = FindTrial(s, job_id, s.config.positional()[1]);
    const v1::Int8Model model = FetchModel(s, trial);

    nlohmann::ordered_json j;
    j["job_id"] = job_id;
    j["trial_id"] = trial.trial_id();
    j["trial"] = trial.number();
    j["sha256"] = model.sha256();
    j["kind"] = kind;
    try {
        if (kind == "artifact") {
            artifact::WriteArtifact(out, model);
            j["file"] = out;
        } else if (kind == "c") {
            const firmware::GeneratedModel generated = firmware::GenerateModel(model);
            firmware::WriteGeneratedModel(generated, out);
            j["dir"] = out;
            std::vector<std::string> files = {"model.h", "model.c"};
            for (std::string& f : CopyRuntime(out)) files.push_back(std::move(f));
            j["files"] = files;
            j["include_dirs"] = {".", "hilnas_nn/include", "hilnas_nn/src/common"};
            j["sources"] = {"model.c", "hilnas_nn/src/common/*.c",
                            "hilnas_nn/src/cortex_m/*.c (Cortex-M with DSP) or "
                            "hilnas_nn/src/reference/*.c (any C99 target)"};
            j["arena_bytes"] = generated.arena_bytes;
            j["const_bytes"] = generated.weight_bytes;
        } else {
            firmware::BuildOptions options;
            options.board = board_flag.empty() ? job.spec().board_type() : board_flag;
            options.runtime_variant = runtime;
            ScratchDir scratch;
            options.out_dir = scratch.path().string();
            const firmware::FirmwareBuild build = firmware::BuildFirmware(model, options);
            fs::copy_file(build.elf, out, fs::copy_options::overwrite_existing);
            const auto described =
                nlohmann::ordered_json::parse(DescribeFirmwareBuild(build, options, out));
            for (const auto& [key, value] : described.items()) j[key] = value;
        }
    } catch (const fs::filesystem_error& e) {
        throw InvalidArgument(std::string("cannot write: ") + e.code().message(), out);
    }
    std::cout << j.dump() << "\n";
    return 0;
}

}  // namespace hilnas::cli
