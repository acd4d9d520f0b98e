#include "hilnas/common/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "hilnas/common/errors.h"

namespace hilnas {

namespace {

// One JSON object per line: {"ts":"...Z","level":"info","logger":"...","thread":N,"msg":"..."}.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since_epoch = msg.time.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs).count();
        const std::time_t t = secs.count();
        std::tm utc{};
        gmtime_r(&t, &utc);
        char ts[40];
        const size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
        std::string line;
        line.reserve(96 + msg.payload.size());
        line += "{\"ts\":\"";
        line.append(ts, n);
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(millis));
        line += frac;
        line += "\",\"level\":\"";
        const auto level = spdlog::level::to_string_view(msg.level);
        line.append(level.data(), level.size());
        line += "\",\"logger\":\"";
        line += JsonEscape(std::string_view(msg.logger_name.data(), msg.logger_name.size()));
        line += "\",\"thread\":";
        line += std::to_string(msg.thread_id);
        line += ",\"msg\":\"";
        line += JsonEscape(std::string_view(msg.payload.data(), msg.payload.size()));
        line += "\"}\n";
        dest.append(line.data(), line.data() + line.size());
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

// The text format with the message's control characters escaped, so that no
// input (a job name, a failure reason) can forge or break a log line.
class TextFormatter final : public spdlog::formatter {
  public:
    TextFormatter() : pattern_("%Y-%m-%d %H:%M:%S.%e %-5l %n: %v") {}

    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        if (!NeedsEscape(payload)) {
            pattern_.format(msg, dest);
            return;
        }
        const std::string escaped = EscapeForLog(payload);
        spdlog::details::log_msg copy = msg;
        copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
        pattern_.format(copy, dest);
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<TextFormatter>();
    }

  private:
    static bool NeedsEscape(std::string_view text) {
        for (const char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7F) return true;
        }
        return false;
    }
    spdlog::pattern_formatter pattern_;
};

}  // namespace

std::string EscapeForLog(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string JsonEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 8);
    for (const char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out;
}

LogFormat ParseLogFormat(std::string_view text, const std::string& field) {
    if (text == "text") return LogFormat::kText;
    if (text == "json") return LogFormat::kJson;
    throw InvalidArgument("must be 'text' or 'json', not '" + std::string(text) + "'", field);
}

spdlog::level::level_enum ParseLogLevel(std::string_view text, const std::string& field) {
    static constexpr std::string_view kNames[] = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    for (size_t i = 0; i < std::size(kNames); ++i) {
        if (text == kNames[i]) return static_cast<spdlog::level::level_enum>(i);
    }
    throw InvalidArgument("must be one of trace, debug, info, warn, error, critical, off; not '" +
                              std::string(text) + "'",
                          field);
}

void InitLogging(const std::string& program, const LogOptions& options) {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>(program, std::move(sink));
    if (options.format == LogFormat::kJson) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_formatter(std::make_unique<TextFormatter>());
    }
    logger->set_level(options.level);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
}

void AddLogOptions(ConfigSchema& schema) {
    schema.Add({"log.format", OptionType::kString, "text", "text or json"});
    schema.Add({"log.level", OptionType::kString, "info", "trace, debug, info, warn or error"});
}

LogOptions LogOptionsFrom(const Config& config, std::string_view default_level) {
    LogOptions o;
    o.format = ParseLogFormat(config.GetString("log.format"));
    o.level = ParseLogLevel(config.SourceOf("log.level") == Config::Source::kDefault
                                ? default_level
                                : std::string_view(config.GetString("log.level")));
    return o;
}

}  // namespace hilnas
