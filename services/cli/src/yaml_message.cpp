#include "hilnas/cli/yaml_message.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "hilnas/common/errors.h"
#include "hilnas/dataset/dataset.h"

namespace hilnas::cli {

namespace {

// Limits on the document, far beyond any job spec: aliases can make a small
// file a huge tree ("billion laughs"), or a cyclic one.
constexpr int kMaxDepth = 64;
constexpr int64_t kMaxNodes = 100000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the run of digits at `s[i]`.
size_t Digits(std::string_view s, size_t i) {
    size_t n = 0;
    while (i + n < s.size() && IsDigit(s[i + n])) ++n;
    return n;
}

// YAML 1.2's decimal integers: [-+]?[0-9]+.
bool IsInteger(std::string_view s) {
    const size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    return s.size() > sign && Digits(s, sign) == s.size() - sign;
}

// YAML 1.2's decimal floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloat(std::string_view s) {
    size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    const size_t whole = Digits(s, i);
    i += whole;
    size_t fraction = 0;
    if (i < s.size() && s[i] == '.') fraction = Digits(s, ++i);
    i += fraction;
    if (whole == 0 && fraction == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        const size_t exponent = Digits(s, i);
        if (exponent == 0) return false;
        i += exponent;
    }
    return i == s.size();
}

// A plain scalar's JSON: YAML's decimal integers and floats stay numbers and
// true/false booleans; anything else is a string (protobuf's JSON parser takes
// enum names, and numbers written as strings, and names the field when a value
// does not fit it). An integer beyond 64 bits, or a float beyond a double,
// stays a string too, so protobuf refuses it instead of rounding it.
nlohmann::json ScalarToJson(const std::string& s) {
    if (s == "true" || s == "false") return s == "true";
    if (IsInteger(s)) {
        const char* first = s.data() + (s[0] == '+' ? 1 : 0);
        const char* last = s.data() + s.size();
        int64_t i = 0;
        if (const auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last) {
            return i;
        }
        uint64_t u = 0;
        if (const auto r = std::from_chars(first, last, u); r.ec == std::errc() && r.ptr == last) {
            return u;
        }
        return s;
    }
    if (IsFloat(s)) {
        const double d = std::strtod(s.c_str(), nullptr);
        if (std::isfinite(d)) return d;
    }
    return s;
}

struct Converter {
    const std::string& source;
    int64_t nodes = 0;

    // `path` is where `n` is in the document ("search_space.training"), for
    // the errors that the JSON parser cannot name.
    nlohmann::json ToJson(const YAML::Node& n, int depth, const std::string& path) {
        if (++nodes > kMaxNodes) {
            throw InvalidArgument("more than " + std::to_string(kMaxNodes) +
                                      " values (aliases that expand without end?)",
                                  source);
        }
        if (depth > kMaxDepth) {
            throw InvalidArgument("nested more than " + std::to_string(kMaxDepth) + " deep",
                                  source);
        }
        if (n.IsMap()) {
            nlohmann::json j = nlohmann::json::object();
            for (const auto& kv : n) {
                if (!kv.first.IsScalar()) {
                    throw InvalidArgument("a key must be a field name, not a list or a map",
                                          path.empty() ? source : source + ": " + path);
                }
                const std::string& key = kv.first.Scalar();
                j[key] = ToJson(kv.second, depth + 1, path.empty() ? key : path + "." + key);
            }
            return j;
        }
        if (n.IsSequence()) {
            nlohmann::json j = nlohmann::json::array();
            for (const auto& item : n) {
                j.push_back(ToJson(item, depth + 1, path + "[" + std::to_string(j.size()) + "]"));
            }
            return j;
        }
        if (n.IsNull()) return nullptr;
        // Quoted ("5") or tagged (!!str 5) scalars are strings; plain ones are typed.
        return n.Tag() == "?" ? ScalarToJson(n.Scalar()) : nlohmann::json(n.Scalar());
    }
};

YAML::Node Load(std::string_view yaml, const std::string& source) {
    try {
        return YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        throw InvalidArgument(
            "not valid YAML: " + e.msg + " at line " + std::to_string(e.mark.line + 1), source);
    }
}

void NodeToMessage(const YAML::Node& root, google::protobuf::Message* out,
                   const std::string& source) {
    Converter converter{source};
    std::string json;
    try {
        json = converter.ToJson(root, 0, "").dump();
    } catch (const nlohmann::json::type_error&) {  // 316: a string that is not UTF-8
        throw InvalidArgument("not UTF-8 text", source);
    }
    out->Clear();
    const auto status = google::protobuf::util::JsonStringToMessage(json, out);
    if (!status.ok()) {
        throw InvalidArgument(
            "not a " + out->GetDescriptor()->full_name() + ": " + std::string(status.message()),
            source);
    }
}

// Whether a document is a whole job spec rather than its search_space
// section: it has a key that only a job spec has (search_space, dataset,
// name, ...; `training` is in both).
bool IsJobSpec(const YAML::Node& root) {
    if (!root.IsMap()) return false;
    // By proto name or JSON name (searchSpace), as the JSON parser takes either.
    auto has = [](const google::protobuf::Descriptor* d, const std::string& key) {
        return d->FindFieldByName(key) != nullptr || d->FindFieldByCamelcaseName(key) != nullptr;
    };
    for (const auto& kv : root) {
        if (!kv.first.IsScalar()) continue;
        const std::string& key = kv.first.Scalar();
        if (has(v1::JobSpec::descriptor(), key) && !has(v1::SearchSpace::descriptor(), key)) {
            return true;
        }
    }
    return false;
}

}  // namespace

void MessageFromYaml(std::string_view yaml, google::protobuf::Message* out,
                     const std::string& source) {
    NodeToMessage(Load(yaml, source), out, source);
}

v1::JobSpec JobSpecFromYaml(std::string_view yaml, const std::string& source) {
    v1::JobSpec spec;
    MessageFromYaml(yaml, &spec, source);
    return spec;
}

arch::SearchSpace SearchSpaceFromYaml(std::string_view yaml, const std::string& source,
                                      const std::string& dataset_name) {
    const YAML::Node root = Load(yaml, source);
    const bool whole = IsJobSpec(root);
    v1::JobSpec spec;
    if (whole) {
        NodeToMessage(root, &spec, source);
    } else if (!root.IsNull()) {
        NodeToMessage(root, spec.mutable_search_space(), source);
    }
    std::string name = dataset_name;
    if (name.empty()) name = spec.dataset().name();
    if (name.empty()) name = dataset::Options{}.name;
    const dataset::Spec* d = nullptr;
    try {
        d = &dataset::FindDataset(name);
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(e.message(), source + ": dataset.name");
    }
    try {
        return arch::SpaceFromProto(spec.search_space(), d->shape, d->classes,
                                    whole ? "search_space" : "");
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(e.message(), e.field().empty() ? source : source + ": " + e.field());
    }
}

}  // namespace hilnas::cli
