// What the OpenOCD and pyOCD flashers share: running a tool under a time-out,
// reading its failure from its output, the connect-under-reset retry, and the
// checks on what they are given. Private to board-agent/src.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/agent/flasher.h"
#include "hilnas/common/subprocess.h"

namespace hilnas::agent::internal {

// A tool line containing `text` means `fault`. A tool's rules are tried in
// order against every line, so put the specific before the generic.
struct FaultRule {
    FlashFault fault;
    std::string_view text;
};

// One tool bound to one probe.
struct ToolCall {
    std::string tool;   // "openocd" | "pyocd", for messages
    std::string probe;  // the serial or uid, for messages
    std::chrono::milliseconds timeout;
    std::span<const FaultRule> rules;
};

// Runs `argv` under the call's time-out and returns how it ended; a failing
// exit is not an error here. Throws FlashError(kToolMissing) when argv[0]
// cannot be found or executed.
ProcessResult RunTool(const ToolCall& call, const std::vector<std::string>& argv);

// The cause of a failed run: kTimeout when it was killed, else the fault of
// the first rule matching a line, else kOther. `line` is the tool line that
// told (for kOther: the last error-looking line, else the last line).
struct Diagnosis {
    FlashFault fault;
    std::string line;
};
Diagnosis Diagnose(const ProcessResult& result, std::span<const FaultRule> rules);

// Throws FlashError with the diagnosis of `result` unless it succeeded.
// `after` is added to the cause, e.g. " after a connect-under-reset retry".
void ThrowIfFailed(const ToolCall& call, const ProcessResult& result,
                   const std::string& after = {});

// Runs argv_for(false); when that fails with kTargetNotResponding, runs
// argv_for(true) (the same call connecting under reset) exactly once and
// reports that attempt. Throws FlashError.
void RunWithConnectUnderReset(const ToolCall& call,
                              const std::function<std::vector<std::string>(bool)>& argv_for);

// The first non-empty line of stdout, else of stderr (OpenOCD prints its
// version on stderr).
std::string FirstLine(const ProcessResult& result);

// The last `max_lines` lines of stdout then stderr, colour codes removed.
std::string OutputTail(const ProcessResult& result, size_t max_lines = 15);

// `text` without ANSI escape sequences (pyOCD colours its tables).
std::string StripAnsi(std::string_view text);

// The absolute path of `elf` once it is a readable 32-bit little-endian ARM
// ELF; else throws FlashError(kBadElf) without running any tool.
std::string CheckElf(const ToolCall& call, const std::string& elf);

// Throws InvalidArgument on `field` unless `serial` is non-empty and only
// letters, digits and "-_.:": it goes into tool command lines unquoted.
void CheckProbeSerial(const std::string& serial, const std::string& field);

}  // namespace hilnas::agent::internal
