#include "hilnas/agent/flasher.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flash_tool.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

const char* FlashFaultName(FlashFault fault) {
    switch (fault) {
        case FlashFault::kProbeNotFound:
            return "probe-not-found";
        case FlashFault::kAmbiguousProbe:
            return "ambiguous-probe";
        case FlashFault::kTargetNotResponding:
            return "target-not-responding";
        case FlashFault::kFlashProtected:
            return "flash-protected";
        case FlashFault::kVerifyFailed:
            return "verify-failed";
        case FlashFault::kTimeout:
            return "timeout";
        case FlashFault::kToolMissing:
            return "tool-missing";
        case FlashFault::kBadElf:
            return "bad-elf";
        case FlashFault::kOther:
            return "other";
    }
    return "other";
}

FlashError::FlashError(FlashFault fault, std::string message, std::string output_tail)
    : Unavailable(std::move(message)), fault_(fault), output_tail_(std::move(output_tail)) {}

namespace internal {

namespace {

std::vector<std::string> Lines(std::string_view text) {
    std::vector<std::string> lines;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        lines.push_back(line);
    }
    return lines;
}

// stdout's lines, then stderr's, without colour codes.
std::vector<std::string> OutputLines(const ProcessResult& result) {
    std::vector<std::string> lines = Lines(StripAnsi(result.out));
    for (std::string& line : Lines(StripAnsi(result.err))) lines.push_back(std::move(line));
    return lines;
}

// An OpenOCD "Error: ..." line, or a pyOCD log line at level E or C
// ("0000670 C STLink error (9): Get IDCODE error [__main__]").
bool LooksLikeError(const std::string& line) {
    if (line.find("Error") != std::string::npos) return true;
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) {
        ++digits;
    }
    return digits > 0 && line.size() > digits + 2 && line[digits] == ' ' &&
           (line[digits + 1] == 'E' || line[digits + 1] == 'C') && line[digits + 2] == ' ';
}

std::string Cause(const ToolCall& call, FlashFault fault, const ProcessResult& result) {
    switch (fault) {
        case FlashFault::kProbeNotFound:
            return "probe not found";
        case FlashFault::kAmbiguousProbe:
            return "more than one probe matches";
        case FlashFault::kTargetNotResponding:
            return "target not responding";
        case FlashFault::kFlashProtected:
            return "flash protected";
        case FlashFault::kVerifyFailed:
            return "verify failed";
        case FlashFault::kTimeout:
            return "timed out after " + std::to_string(call.timeout.count()) + " ms";
        case FlashFault::kToolMissing:
            return "not installed";
        case FlashFault::kBadElf:
            return "bad ELF";
        case FlashFault::kOther:
            return "failed (" + result.Describe() + ")";
    }
    return "failed";
}

std::string Message(const ToolCall& call, const std::string& cause, const std::string& detail) {
    std::string message = call.tool + ": " + cause + " (probe " + call.probe + ")";
    if (!detail.empty()) message += ": " + detail;
    return message;
}

// True when `program` names an executable file, directly or through PATH.
bool CanExecute(const std::string& program) {
    if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return true;
    }
    return false;
}

}  // namespace

std::string StripAnsi(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
            // CSI: parameters and intermediates up to a final byte in @..~.
            size_t j = i + 2;
            while (j < text.size() && !(text[j] >= '@' && text[j] <= '~')) ++j;
            i = j;
            continue;
        }
        out.push_back(text[i]);
    }
    return out;
}

ProcessResult RunTool(const ToolCall& call, const std::vector<std::string>& argv) {
    ProcessOptions options;
    options.argv = argv;
    options.timeout = call.timeout;
    try {
        return RunProcess(options);
    } catch (const Unavailable& e) {
        if (!CanExecute(argv.at(0))) {
            throw FlashError(FlashFault::kToolMissing,
                             Message(call, "not installed",
                                     "cannot run '" + argv.at(0) + "' (is " + call.tool +
                                         " installed and on PATH?)"),
                             e.what());
        }
        throw FlashError(FlashFault::kOther, Message(call, "could not be started", e.what()),
                         e.what());
    }
}

Diagnosis Diagnose(const ProcessResult& result, std::span<const FaultRule> rules) {
    const std::vector<std::string> lines = OutputLines(result);
    auto last_line = [&]() -> std::string {
        for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
            if (!it->empty()) return *it;
        }
        return {};
    };
    if (result.timed_out) return {FlashFault::kTimeout, last_line()};
    for (const FaultRule& rule : rules) {
        for (const std::string& line : lines) {
            if (line.find(rule.text) != std::string::npos) return {rule.fault, line};
        }
    }
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        if (LooksLikeError(*it)) return {FlashFault::kOther, *it};
    }
    return {FlashFault::kOther, last_line()};
}

void ThrowIfFailed(const ToolCall& call, const ProcessResult& result, const std::string& after) {
    if (result.ok()) return;
    const Diagnosis diagnosis = Diagnose(result, call.rules);
    throw FlashError(diagnosis.fault,
                     Message(call, Cause(call, diagnosis.fault, result) + after, diagnosis.line),
                     OutputTail(result));
}

void RunWithConnectUnderReset(const ToolCall& call,
                              const std::function<std::vector<std::string>(bool)>& argv_for) {
    const ProcessResult first = RunTool(call, argv_for(false));
    if (first.ok()) return;
    if (Diagnose(first, call.rules).fault != FlashFault::kTargetNotResponding) {
        ThrowIfFailed(call, first);
    }
    spdlog::info("{}: target behind probe {} not responding; retrying once connecting under reset",
                 call.tool, call.probe);
    ThrowIfFailed(call, RunTool(call, argv_for(true)), " after a connect-under-reset retry");
}

std::string FirstLine(const ProcessResult& result) {
    for (const std::string* text : {&result.out, &result.err}) {
        for (const std::string& line : Lines(StripAnsi(*text))) {
            if (!line.empty()) return line;
        }
    }
    return {};
}

std::string OutputTail(const ProcessResult& result, size_t max_lines) {
    std::vector<std::string> lines = OutputLines(result);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    const size_t first = lines.size() > max_lines ? lines.size() - max_lines : 0;
    std::string tail;
    for (size_t i = first; i < lines.size(); ++i) {
        if (!tail.empty()) tail += '\n';
        tail += lines[i];
    }
    return tail;
}

std::string CheckElf(const ToolCall& call, const std::string& elf) {
    auto bad = [&](const std::string& why) {
        return FlashError(FlashFault::kBadElf, Message(call, "bad ELF", "'" + elf + "': " + why),
                          "");
    };
    std::error_code ec;
    if (!std::filesystem::is_regular_file(elf, ec)) throw bad("no such file");
    std::ifstream in(elf, std::ios::binary);
    std::array<unsigned char, 20> header{};
    if (!in.read(reinterpret_cast<char*>(header.data()), header.size())) {
        throw bad(in.is_open() ? "shorter than an ELF header" : "cannot be read");
    }
    if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
        throw bad("not an ELF file");
    }
    // e_ident[EI_CLASS] == ELFCLASS32, e_ident[EI_DATA] == ELFDATA2LSB,
    // e_machine (offset 18, little-endian) == EM_ARM (40).
    const unsigned machine = header[18] | (header[19] << 8);
    if (header[4] != 1 || header[5] != 1 || machine != 40) {
        throw bad("not a 32-bit little-endian ARM ELF (e_machine " + std::to_string(machine) + ")");
    }
    return std::filesystem::absolute(elf).string();
}

void CheckProbeSerial(const std::string& serial, const std::string& field) {
    if (serial.empty()) {
        throw InvalidArgument("a probe must be named: flashing 'the first probe found' is refused",
                              field);
    }
    for (const char c : serial) {
        const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                        c == '.' || c == ':';
        if (!ok) {
            throw InvalidArgument("'" + serial + "' has characters other than [A-Za-z0-9-_.:]",
                                  field);
        }
    }
}

}  // namespace internal

}  // namespace hilnas::agent
