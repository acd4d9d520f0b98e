#include "hilnas/firmware/build.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/firmware/codegen.h"

namespace hilnas::firmware {

namespace fs = std::filesystem;

std::string FirmwareSourceDir(const std::string& configured) {
    if (!configured.empty()) return configured;
    if (const char* env = std::getenv("HILNAS_FIRMWARE_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    return HILNAS_FIRMWARE_SOURCE_DIR;
}

namespace {

std::string Tail(const std::string& text, size_t lines) {
    size_t pos = text.size();
    for (size_t n = 0; n <= lines && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
    return text.substr(pos == std::string::npos ? 0 : pos + 1);
}

ProcessResult Run(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                  const std::string& what) {
    ProcessOptions p;
    p.argv = std::move(argv);
    p.timeout = timeout;
    ProcessResult r = RunProcess(p);
    if (!r.ok()) {
        throw Unavailable(what + " " + r.Describe() + ":\n" + Tail(r.out + r.err, 15));
    }
    return r;
}

}  // namespace

ElfSizes ParseSizeOutput(const std::string& text) {
    ElfSizes s;
    bool seen_text = false;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream row(line);
        std::string name;
        int64_t size = 0;
        if (!(row >> name >> size)) continue;
        if (name == ".isr_vector") s.isr_vector = size;
        if (name == ".text") s.text = size, seen_text = true;
        if (name == ".rodata") s.rodata = size;
        if (name == ".ARM.exidx") s.exidx = size;
        if (name == ".data") s.data = size;
        if (name == ".bss") s.bss = size;
        if (name == ".stack") s.stack = size;
    }
    if (!seen_text) throw InvalidArgument("no .text section in the size report", "elf");
    return s;
}

FirmwareBuild BuildFirmware(const v1::Int8Model& model, const BuildOptions& options) {
    const catalog::BoardType& board = catalog::FindBoardType(options.board, "board");
    if (options.energy_mode && board.timestamp_pin.empty()) {
        throw InvalidArgument(
            "board '" + board.name + "' has no timestamp pin, so no MLPerf Tiny energy mode",
            "energy_mode");
    }
    if (!options.fault.empty() && options.fault != "hang-on-infer" &&
        options.fault != "wrong-output") {
        throw InvalidArgument(
            "must be empty, hang-on-infer or wrong-output, not '" + options.fault + "'", "fault");
    }
    if (options.runtime_variant != "cortex_m" && options.runtime_variant != "reference") {
        throw InvalidArgument("must be cortex_m or reference", "runtime_variant");
    }
    if (options.out_dir.empty()) throw InvalidArgument("needs an output directory", "out_dir");
    const std::string fw = FirmwareSourceDir(options.firmware_dir);
    if (!fs::exists(fs::path(fw) / "target" / "CMakeLists.txt")) {
        throw Unavailable("firmware sources not found (set HILNAS_FIRMWARE_DIR)", fw);
    }
    const auto codegen_start = std::chrono::steady_clock::now();
    const GeneratedModel generated =
        GenerateModel(model, options.in_place_layers, options.sparse_weights);
    const fs::path out = fs::absolute(options.out_dir);
    WriteGeneratedModel(generated, (out / "model").string());
    const double codegen_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - codegen_start).count();
    const fs::path build = out / "build";
    Run({"cmake", "-S", fw + "/target", "-B", build.string(), "-G", "Ninja",
         "-DCMAKE_TOOLCHAIN_FILE=" + fw + "/cmake/arm-none-eabi.cmake",
         "-DCMAKE_BUILD_TYPE=Release", "-DHILNAS_BOARD=" + options.board,
         "-DHILNAS_MODEL_DIR=" + (out / "model").string(),
         "-DHILNAS_RUNTIME_VARIANT=" + options.runtime_variant,
         std::string("-DHILNAS_ENERGY_MODE=") + (options.energy_mode ? "ON" : "OFF"),
         "-DHILNAS_FAULT=" + options.fault},
        options.timeout, "configuring the firmware");
    Run({"cmake", "--build", build.string()}, options.timeout, "building the firmware");
    FirmwareBuild result;
    result.elf = (build / "hilnas-fw.elf").string();
    result.arena_bytes = generated.arena_bytes;
    result.weight_bytes = generated.weight_bytes;
    result.codegen_seconds = codegen_seconds;
    result.sizes = ParseSizeOutput(
        Run({"arm-none-eabi-size", "-A", "-d", result.elf}, options.timeout, "arm-none-eabi-size")
            .out);
    const std::string version =
        Run({"arm-none-eabi-gcc", "--version"}, options.timeout, "arm-none-eabi-gcc").out;
    result.toolchain = version.substr(0, version.find('\n'));
    return result;
}

}  // namespace hilnas::firmware
