#include "hilnas/common/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "hilnas/common/errors.h"

extern char** environ;

namespace hilnas {

namespace {

std::string EnvName(std::string_view key) {
    std::string name = "HILNAS_";
    for (const char c : key) {
        name += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

// Flags may spell '.' and '_' as '-': --log-format, --artifact.max-bytes. The
// schema refuses keys that would collide under this spelling.
const OptionSpec* FindFlag(const ConfigSchema& schema, std::string_view flag) {
    std::string spelled(flag);
    std::replace(spelled.begin(), spelled.end(), '-', '_');
    const std::string wanted = EnvName(spelled);
    for (const auto& spec : schema.options()) {
        if (EnvName(spec.key) == wanted) return &spec;
    }
    return nullptr;
}

const char* TypeName(OptionType type) {
    switch (type) {
        case OptionType::kString:
            return "string";
        case OptionType::kInt:
            return "integer";
        case OptionType::kDouble:
            return "number";
        case OptionType::kBool:
            return "true|false";
        case OptionType::kDuration:
            return "duration";
        case OptionType::kStringList:
            return "list";
    }
    return "?";
}

const char* SourceName(Config::Source source) {
    switch (source) {
        case Config::Source::kDefault:
            return "default";
        case Config::Source::kFile:
            return "file";
        case Config::Source::kEnvironment:
            return "env";
        case Config::Source::kFlag:
            return "flag";
    }
    return "?";
}

std::vector<std::string> SplitList(std::string_view text) {
    std::vector<std::string> items;
    if (text.empty()) return items;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        std::string item(text.substr(start, comma - start));
        if (!item.empty()) items.push_back(std::move(item));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

}  // namespace

ConfigSchema& ConfigSchema::Add(OptionSpec spec) {
    if (spec.key.empty() || spec.key == "config" || spec.key == "help") {
        throw std::logic_error("config option key '" + spec.key + "' is reserved or empty");
    }
    for (const char c : spec.key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok) throw std::logic_error("config option key '" + spec.key + "' is malformed");
    }
    for (const auto& existing : options_) {
        if (EnvName(existing.key) == EnvName(spec.key)) {
            throw std::logic_error("config options '" + existing.key + "' and '" + spec.key +
                                   "' collide");
        }
    }
    options_.push_back(std::move(spec));
    return *this;
}

const OptionSpec* ConfigSchema::Find(std::string_view key) const {
    for (const auto& spec : options_) {
        if (spec.key == key) return &spec;
    }
    return nullptr;
}

std::string ConfigSchema::Help() const {
    std::ostringstream out;
    out << "  --config PATH  YAML file with any of the options below (env HILNAS_CONFIG)\n";
    for (const auto& spec : options_) {
        out << "  --" << spec.key << " " << TypeName(spec.type) << "  " << spec.help;
        if (!spec.default_value.empty() && !spec.secret) {
            out << " (default " << spec.default_value << ")";
        }
        out << " [env " << EnvName(spec.key) << "]\n";
    }
    return out.str();
}

Environment ProcessEnvironment() {
    Environment env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view kv(*e);
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

constexpr double kMaxDurationMillis = 1e6 * 3600e3;  // 1000000h, about 114 years

std::chrono::milliseconds ParseDuration(std::string_view text, const std::string& field) {
    const std::string s(text);
    errno = 0;
    char* end = nullptr;
    const double number = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || errno != 0 || !(number >= 0)) {  // NaN too
        throw InvalidArgument("must be a duration such as 250ms, 30s, 5m or 2h; not '" + s + "'",
                              field);
    }
    const std::string_view unit(end);
    double millis = 0;
    if (unit.empty() || unit == "s") {
        millis = number * 1e3;
    } else if (unit == "ms") {
        millis = number;
    } else if (unit == "m") {
        millis = number * 60e3;
    } else if (unit == "h") {
        millis = number * 3600e3;
    } else {
        throw InvalidArgument(
            "unknown duration unit '" + std::string(unit) + "' in '" + s + "' (use ms, s, m or h)",
            field);
    }
    // Bounded so that a deadline of now + the duration fits a clock's nanoseconds.
    if (!(millis <= kMaxDurationMillis)) {
        throw InvalidArgument("must be at most 1000000h, not '" + s + "'", field);
    }
    return std::chrono::milliseconds(static_cast<int64_t>(millis + 0.5));
}

void Config::Set(const OptionSpec& spec, std::string_view text, Source source,
                 const std::string& where) {
    const std::string s(text);
    Entry entry;
    entry.source = source;
    entry.secret = spec.secret;
    switch (spec.type) {
        case OptionType::kString:
            entry.value = s;
            break;
        case OptionType::kInt: {
            errno = 0;
            char* end = nullptr;
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (s.empty() || *end != '\0' || errno != 0) {
                throw InvalidArgument("must be an integer, not '" + s + "'", where);
            }
            entry.value = static_cast<int64_t>(v);
            break;
        }
        case OptionType::kDouble: {
            errno = 0;
            char* end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
                throw InvalidArgument("must be a finite number, not '" + s + "'", where);
            }
            entry.value = v;
            break;
        }
        case OptionType::kBool:
            if (s == "true" || s == "1" || s == "yes" || s == "on") {
                entry.value = true;
            } else if (s == "false" || s == "0" || s == "no" || s == "off") {
                entry.value = false;
            } else {
                throw InvalidArgument("must be true or false, not '" + s + "'", where);
            }
            break;
        case OptionType::kDuration:
            entry.value = ParseDuration(s, where);
            break;
        case OptionType::kStringList:
            entry.value = SplitList(s);
            break;
    }
    entries_[spec.key] = std::move(entry);
}

void Config::SetList(const OptionSpec& spec, std::vector<std::string> items, Source source) {
    Entry entry;
    entry.source = source;
    entry.secret = spec.secret;
    entry.value = std::move(items);
    entries_[spec.key] = std::move(entry);
}

namespace {

// Walks a YAML document, calling `visit(key, node)` for each leaf. Maps nest
// keys with '.'; a sequence is a leaf (for list options). A key that is not a
// scalar (`? [a, b]: 1`) is an InvalidArgument naming `path` and where it is.
template <typename Visit>
void WalkYaml(const YAML::Node& node, const std::string& prefix, const std::string& path,
              const Visit& visit) {
    if (node.IsMap()) {
        for (const auto& kv : node) {
            if (!kv.first.IsScalar()) {
                throw InvalidArgument("a key must be a name, not a list or a map",
                                      prefix.empty() ? path : path + ": " + prefix);
            }
            const std::string& name = kv.first.Scalar();
            const std::string key = prefix.empty() ? name : prefix + "." + name;
            WalkYaml(kv.second, key, path, visit);
        }
    } else {
        visit(prefix, node);
    }
}

}  // namespace

Config Config::Load(const ConfigSchema& schema, const std::vector<std::string>& args,
                    const Environment& env) {
    Config config;
    for (const auto& spec : schema.options()) {
        config.Set(spec, spec.default_value, Source::kDefault, "default of " + spec.key);
    }

    // First pass over the flags: find --config and --help, collect the rest.
    std::vector<std::pair<std::string, std::string>> flags;  // (flag as written, value)
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            config.positional_.insert(config.positional_.end(),
                                      args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                      args.end());
            break;
        }
        if (arg == "-h" || arg == "--help") {
            config.help_requested_ = true;
            continue;
        }
        // "-o" is the one-letter option "o"; "-" alone and "-5" are arguments.
        const bool short_flag =
            arg.size() == 2 && arg[0] == '-' && std::isalpha(static_cast<unsigned char>(arg[1]));
        if (!short_flag && (arg.size() < 3 || arg.compare(0, 2, "--") != 0)) {
            config.positional_.push_back(arg);
            continue;
        }
        std::string name = arg.substr(short_flag ? 1 : 2);
        std::string value;
        bool has_value = false;
        if (const size_t eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            has_value = true;
        }
        const std::string written = (short_flag ? "-" : "--") + name;
        const bool is_config = name == "config";
        const OptionSpec* spec = is_config ? nullptr : FindFlag(schema, name);
        if (!is_config && spec == nullptr) {
            throw InvalidArgument("unknown flag (see --help)", written);
        }
        if (!has_value) {
            if (spec != nullptr && spec->type == OptionType::kBool) {
                value = "true";
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                throw InvalidArgument("needs a value", written);
            }
        }
        if (is_config) {
            config.config_file_ = value;
        } else {
            flags.emplace_back(written, value);
        }
    }
    if (config.config_file_.empty()) {
        if (const auto it = env.find("HILNAS_CONFIG"); it != env.end()) {
            config.config_file_ = it->second;
        }
    }

    if (!config.config_file_.empty()) {
        const std::string& path = config.config_file_;
        YAML::Node root;
        try {
            root = YAML::LoadFile(path);
        } catch (const YAML::BadFile&) {
            throw InvalidArgument("cannot read the file", path);
        } catch (const YAML::Exception& e) {
            throw InvalidArgument(
                "not valid YAML: " + e.msg + " at line " + std::to_string(e.mark.line + 1), path);
        }
        if (!root.IsNull() && !root.IsMap()) {
            throw InvalidArgument("must be a map of options", path);
        }
        WalkYaml(root, "", path, [&](const std::string& key, const YAML::Node& node) {
            const OptionSpec* spec = schema.Find(key);
            const std::string where = path + ": " + key;
            if (spec == nullptr) throw InvalidArgument("unknown key '" + key + "'", path);
            if (node.IsSequence()) {
                if (spec->type != OptionType::kStringList) {
                    throw InvalidArgument("must be a single value, not a list", where);
                }
                std::vector<std::string> items;
                for (const auto& item : node) {
                    if (!item.IsScalar())
                        throw InvalidArgument("list items must be scalars", where);
                    items.push_back(item.as<std::string>());
                }
                config.SetList(*spec, std::move(items), Source::kFile);
            } else if (node.IsScalar()) {
                config.Set(*spec, node.as<std::string>(), Source::kFile, where);
            } else if (node.IsNull()) {
                config.Set(*spec, "", Source::kFile, where);
            } else {
                throw InvalidArgument("unexpected value", where);
            }
        });
    }

    for (const auto& spec : schema.options()) {
        const std::string name = EnvName(spec.key);
        if (const auto it = env.find(name); it != env.end()) {
            config.Set(spec, it->second, Source::kEnvironment, name);
        }
    }
    for (const auto& [flag, value] : flags) {
        const OptionSpec* spec =
            FindFlag(schema, std::string_view(flag).substr(flag[1] == '-' ? 2 : 1));
        config.Set(*spec, value, Source::kFlag, flag);
    }
    return config;
}

const Config::Entry& Config::At(std::string_view key) const {
    const auto it = entries_.find(key);
    if (it == entries_.end()) {
        throw std::logic_error("config option '" + std::string(key) + "' was not declared");
    }
    return it->second;
}

namespace {
template <typename T>
const T& Get(const std::variant<std::string, int64_t, double, bool, std::chrono::milliseconds,
                                std::vector<std::string>>& value,
             std::string_view key) {
    if (const T* v = std::get_if<T>(&value)) return *v;
    throw std::logic_error("config option '" + std::string(key) + "' read with the wrong type");
}
}  // namespace

const std::string& Config::GetString(std::string_view key) const {
    return Get<std::string>(At(key).value, key);
}
int64_t Config::GetInt(std::string_view key) const { return Get<int64_t>(At(key).value, key); }
double Config::GetDouble(std::string_view key) const { return Get<double>(At(key).value, key); }
bool Config::GetBool(std::string_view key) const { return Get<bool>(At(key).value, key); }
std::chrono::milliseconds Config::GetDuration(std::string_view key) const {
    return Get<std::chrono::milliseconds>(At(key).value, key);
}
const std::vector<std::string>& Config::GetStringList(std::string_view key) const {
    return Get<std::vector<std::string>>(At(key).value, key);
}
Config::Source Config::SourceOf(std::string_view key) const { return At(key).source; }

std::string Config::Describe() const {
    std::ostringstream out;
    bool first = true;
    for (const auto& [key, entry] : entries_) {
        if (!first) out << ", ";
        first = false;
        out << key << "=";
        if (entry.secret) {
            out << "<redacted>";
        } else {
            std::visit(
                [&out](const auto& v) {
                    using T = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<T, bool>) {
                        out << (v ? "true" : "false");
                    } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
                        out << v.count() << "ms";
                    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
                        out << "[";
                        for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
                        out << "]";
                    } else {
                        out << v;
                    }
                },
                entry.value);
        }
        out << " (" << SourceName(entry.source) << ")";
    }
    return out.str();
}

}  // namespace hilnas
