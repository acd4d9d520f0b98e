// Process-wide logging on spdlog, to stderr: human-readable text by default,
// one JSON object per line for log collectors.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "hilnas/common/config.h"

namespace hilnas {

enum class LogFormat { kText, kJson };

struct LogOptions {
    LogFormat format = LogFormat::kText;
    spdlog::level::level_enum level = spdlog::level::info;
};

// "text" | "json"; throws InvalidArgument naming `field` otherwise.
LogFormat ParseLogFormat(std::string_view text, const std::string& field = "log.format");
// "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off".
spdlog::level::level_enum ParseLogLevel(std::string_view text,
                                        const std::string& field = "log.level");

// Replaces the default logger with one named `program` writing to stderr.
void InitLogging(const std::string& program, const LogOptions& options);

// The `log.format` and `log.level` options every hilnas process takes.
void AddLogOptions(ConfigSchema& schema);
// What they say; a level left at its default becomes `default_level`.
LogOptions LogOptionsFrom(const Config& config, std::string_view default_level = "info");

// `text` with control characters written as \n, \r, \t or \xNN: what the text
// log format does to every message, so input cannot forge a log line.
std::string EscapeForLog(std::string_view text);

// `text` escaped for inclusion between double quotes in JSON.
std::string JsonEscape(std::string_view text);

}  // namespace hilnas
