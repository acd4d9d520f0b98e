// Configuration from a YAML file, the environment and command-line flags.
//
// A program declares its options in a ConfigSchema. Each option has a dotted
// key such as "log.format", which is
//   - a path in the YAML file:        log: {format: json}   (or "log.format: json")
//   - an environment variable:        HILNAS_LOG_FORMAT=json
//   - a flag:                         --log.format json, --log.format=json, --log-format=json
//                                     (a one-letter key also as -o DIR)
// Later sources override earlier ones: defaults < file < environment < flags.
// The file is named by --config PATH or HILNAS_CONFIG. An unknown key in the
// file or an unknown flag is an InvalidArgument naming it; values are checked
// against the option's type when loaded, so a bad value fails at start.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hilnas {

enum class OptionType { kString, kInt, kDouble, kBool, kDuration, kStringList };

struct OptionSpec {
    std::string key;  // lowercase letters, digits, '_' and '.'
    OptionType type = OptionType::kString;
    std::string default_value;  // as text, parsed like any other source
    std::string help;
    bool secret = false;  // redacted in Config::Describe()
};

class ConfigSchema {
  public:
    // Throws std::logic_error for a malformed or duplicate key (a programming error).
    ConfigSchema& Add(OptionSpec spec);
    const OptionSpec* Find(std::string_view key) const;
    const std::vector<OptionSpec>& options() const { return options_; }
    // One line per option: flag, type, default and help.
    std::string Help() const;

  private:
    std::vector<OptionSpec> options_;
};

using Environment = std::map<std::string, std::string>;

// This process's environment variables.
Environment ProcessEnvironment();

// "250ms", "30s", "5m", "2h"; a bare number is seconds; at most 1000000h. Throws
// InvalidArgument naming `field`.
std::chrono::milliseconds ParseDuration(std::string_view text, const std::string& field);

class Config {
  public:
    enum class Source { kDefault, kFile, kEnvironment, kFlag };

    // `args` are the arguments after the program (and subcommand) name.
    // Arguments that are not flags are kept in positional(); "--" ends the flags.
    static Config Load(const ConfigSchema& schema, const std::vector<std::string>& args,
                       const Environment& env);

    // Accessors throw std::logic_error when the key is not in the schema or has
    // another type: asking for an undeclared option is a programming error.
    const std::string& GetString(std::string_view key) const;
    int64_t GetInt(std::string_view key) const;
    double GetDouble(std::string_view key) const;
    bool GetBool(std::string_view key) const;
    std::chrono::milliseconds GetDuration(std::string_view key) const;
    const std::vector<std::string>& GetStringList(std::string_view key) const;
    Source SourceOf(std::string_view key) const;

    const std::vector<std::string>& positional() const { return positional_; }
    bool help_requested() const { return help_requested_; }
    const std::string& config_file() const { return config_file_; }

    // "key=value (source)" for every option, secrets redacted: for the start-up log.
    std::string Describe() const;

  private:
    using Value = std::variant<std::string, int64_t, double, bool, std::chrono::milliseconds,
                               std::vector<std::string>>;
    struct Entry {
        Value value;
        Source source = Source::kDefault;
        bool secret = false;
    };
    void Set(const OptionSpec& spec, std::string_view text, Source source,
             const std::string& where);
    void SetList(const OptionSpec& spec, std::vector<std::string> items, Source source);
    const Entry& At(std::string_view key) const;

    std::map<std::string, Entry, std::less<>> entries_;
    std::vector<std::string> positional_;
    bool help_requested_ = false;
    std::string config_file_;
};

}  // namespace hilnas
