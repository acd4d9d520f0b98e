#include "pg_util.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <utility>

#include "hilnas/catalog/objectives.h"
#include "hilnas/common/errors.h"

namespace hilnas::store {

namespace {

// The first line of a server message, without libpq's "ERROR:  " prefix.
std::string PrimaryMessage(const std::string& what) {
    std::string line = what.substr(0, what.find('\n'));
    constexpr std::string_view kPrefix = "ERROR:  ";
    if (line.starts_with(kPrefix)) line.erase(0, kPrefix.size());
    return line;
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.starts_with(prefix); }

}  // namespace

void RethrowAsError(std::string_view operation) {
    try {
        throw;
    } catch (const Error&) {
        throw;
    } catch (const pqxx::broken_connection& e) {
        spdlog::warn("{}: database connection lost: {}", operation, e.what());
        throw Unavailable("the database connection was lost");
    } catch (const pqxx::in_doubt_error& e) {
        spdlog::error("{}: connection lost while committing: {}", operation, e.what());
        throw Unavailable(
            "the database connection was lost while committing; the outcome is unknown");
    } catch (const pqxx::transaction_rollback& e) {
        spdlog::warn("{}: transaction rolled back: {}", operation, e.what());
        throw Unavailable("the database rolled the transaction back under contention; retry");
    } catch (const pqxx::sql_error& e) {
        const std::string& state = e.sqlstate();
        if (state == "57014") {
            throw DeadlineExceeded("the database did not finish within the statement timeout");
        }
        if (state == "55P03") throw DeadlineExceeded("a row stayed locked past the lock timeout");
        // Raised by the schema's state-machine triggers; the text is ours.
        if (state == "HN001") throw FailedPrecondition(PrimaryMessage(e.what()));
        if (state == "23505") throw AlreadyExists("already exists");
        if (state == "23503") throw NotFound("refers to something that does not exist");
        if (StartsWith(state, "22") || StartsWith(state, "23")) {
            spdlog::debug("{}: rejected by the database ({}): {}", operation, state, e.what());
            throw InvalidArgument("a value is malformed or out of range");
        }
        if (StartsWith(state, "08") || StartsWith(state, "53") || StartsWith(state, "57P")) {
            spdlog::warn("{}: database unavailable ({}): {}", operation, state, e.what());
            throw Unavailable("the database is unavailable");
        }
        spdlog::error("{}: database error {}: {} [query: {}]", operation, state, e.what(),
                      e.query());
        throw Internal("database error");
    } catch (const std::exception& e) {
        spdlog::error("{}: {}", operation, e.what());
        throw Internal("database error");
    }
}

bool IsRetryable(const std::exception& e) {
    return dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
           dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr;
}

void CheckUuid(const std::string& id, const char* field) {
    bool ok = id.size() == 36;
    for (size_t i = 0; ok && i < id.size(); ++i) {
        const char c = id[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            ok = c == '-';
        } else {
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }
    }
    if (!ok) {
        throw InvalidArgument(id.empty() ? "required" : "'" + id.substr(0, 64) + "' is not an id",
                              field);
    }
}

std::string TextArray(const std::vector<std::string>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        out += '"';
        for (const char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string FormatDouble(double value) {
    std::array<char, 64> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    if (ec != std::errc()) throw Internal("cannot format a number");
    return std::string(buf.data(), end);
}

std::string DoubleArray(const std::vector<double>& values) {
    std::string out = "{";
    for (size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        out += FormatDouble(values[i]);
    }
    return out + "}";
}

std::string ToJson(const google::protobuf::Message& message) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;  // snake_case keys, as in the .proto
    std::string json;
    const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
    if (!status.ok()) {
        throw InvalidArgument("cannot be written as JSON: " + std::string(status.message()),
                              message.GetDescriptor()->name());
    }
    return json;
}

void FromJson(const std::string& json, google::protobuf::Message* message) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // written by a newer version
    const auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
    if (!status.ok()) {
        spdlog::error("stored {} does not parse: {}", message->GetDescriptor()->name(),
                      std::string(status.message()));
        throw Internal("stored data does not parse");
    }
}

namespace {

template <typename Enum, size_t N>
const char* NameOf(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
    for (const auto& [e, name] : table) {
        if (e == value) return name;
    }
    return "";
}

template <typename Enum, size_t N>
Enum ValueOf(const std::array<std::pair<Enum, const char*>, N>& table, const std::string& name,
             Enum fallback) {
    for (const auto& [e, n] : table) {
        if (name == n) return e;
    }
    return fallback;
}

constexpr std::array<std::pair<v1::TrialState, const char*>, 8> kTrialStates{{
    {v1::TRIAL_PENDING, "pending"},
    {v1::TRIAL_TRAINING, "training"},
    {v1::TRIAL_TRAINED, "trained"},
    {v1::TRIAL_MEASURING, "measuring"},
    {v1::TRIAL_COMPLETE, "complete"},
    {v1::TRIAL_FAILED, "failed"},
    {v1::TRIAL_INFEASIBLE, "infeasible"},
    {v1::TRIAL_STALE, "stale"},
}};

constexpr std::array<std::pair<v1::JobState, const char*>, 6> kJobStates{{
    {v1::JOB_PENDING, "pending"},
    {v1::JOB_RUNNING, "running"},
    {v1::JOB_CANCELLING, "cancelling"},
    {v1::JOB_CANCELLED, "cancelled"},
    {v1::JOB_COMPLETED, "completed"},
    {v1::JOB_FAILED, "failed"},
}};

constexpr std::array<std::pair<v1::MetricSource, const char*>, 5> kSources{{
    {v1::METRIC_SOURCE_COMPUTED, "computed"},
    {v1::METRIC_SOURCE_EVALUATED, "evaluated"},
    {v1::METRIC_SOURCE_MEASURED, "measured"},
    {v1::METRIC_SOURCE_ESTIMATED, "estimated"},
    {v1::METRIC_SOURCE_EMULATED, "emulated"},
}};

constexpr std::array<std::pair<v1::ArtifactKind, const char*>, 3> kArtifactKinds{{
    {v1::ARTIFACT_INT8_MODEL, "int8_model"},
    {v1::ARTIFACT_CHECKPOINT, "checkpoint"},
    {v1::ARTIFACT_FIRMWARE_ELF, "firmware_elf"},
}};

constexpr std::array<std::pair<v1::BoardHealth, const char*>, 4> kHealth{{
    {v1::BOARD_HEALTH_UNKNOWN, "unknown"},
    {v1::BOARD_HEALTH_GOOD, "good"},
    {v1::BOARD_HEALTH_BAD, "bad"},
    {v1::BOARD_HEALTH_MAINTENANCE, "maintenance"},
}};

constexpr std::array<std::pair<v1::Debugger, const char*>, 3> kDebuggers{{
    {v1::DEBUGGER_OPENOCD, "openocd"},
    {v1::DEBUGGER_PYOCD, "pyocd"},
    {v1::DEBUGGER_QEMU, "qemu"},
}};

constexpr std::array<std::pair<v1::EnergyMeter, const char*>, 2> kMeters{{
    {v1::ENERGY_METER_NONE, "none"},
    {v1::ENERGY_METER_LPM01A, "lpm01a"},
}};

}  // namespace

const char* TrialStateName(v1::TrialState state) { return NameOf(kTrialStates, state); }
v1::TrialState ParseTrialState(const std::string& name) {
    return ValueOf(kTrialStates, name, v1::TRIAL_STATE_UNSPECIFIED);
}
const char* JobStateName(v1::JobState state) { return NameOf(kJobStates, state); }
v1::JobState ParseJobState(const std::string& name) {
    return ValueOf(kJobStates, name, v1::JOB_STATE_UNSPECIFIED);
}
// The catalogue's names are string literals, so their data() ends in a NUL.
const char* ObjectiveName(v1::Objective objective) {
    const catalog::Objective* o = catalog::FindObjective(objective);
    return o == nullptr ? "" : o->name.data();
}
v1::Objective ParseObjective(const std::string& name) {
    const catalog::Objective* o = catalog::FindObjective(std::string_view(name));
    return o == nullptr ? v1::OBJECTIVE_UNSPECIFIED : o->id;
}
const char* MetricSourceName(v1::MetricSource source) { return NameOf(kSources, source); }
v1::MetricSource ParseMetricSource(const std::string& name) {
    return ValueOf(kSources, name, v1::METRIC_SOURCE_UNSPECIFIED);
}
const char* ArtifactKindName(v1::ArtifactKind kind) { return NameOf(kArtifactKinds, kind); }
v1::ArtifactKind ParseArtifactKind(const std::string& name) {
    return ValueOf(kArtifactKinds, name, v1::ARTIFACT_KIND_UNSPECIFIED);
}
const char* BoardHealthName(v1::BoardHealth health) { return NameOf(kHealth, health); }
v1::BoardHealth ParseBoardHealth(const std::string& name) {
    return ValueOf(kHealth, name, v1::BOARD_HEALTH_UNSPECIFIED);
}
const char* DebuggerName(v1::Debugger debugger) { return NameOf(kDebuggers, debugger); }
v1::Debugger ParseDebugger(const std::string& name) {
    return ValueOf(kDebuggers, name, v1::DEBUGGER_UNSPECIFIED);
}
const char* MeterName(v1::EnergyMeter meter) { return NameOf(kMeters, meter); }
v1::EnergyMeter ParseMeter(const std::string& name) {
    return ValueOf(kMeters, name, v1::ENERGY_METER_NONE);
}

std::string EncodePageToken(char kind, const std::string& payload) {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::string plain = std::string(1, kind) + ":" + payload;
    std::string out;
    for (const unsigned char c : plain) {
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
    return out;
}

std::string DecodePageToken(char kind, const std::string& token) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string plain;
    bool ok = token.size() % 2 == 0 && token.size() <= 512;
    for (size_t i = 0; ok && i < token.size(); i += 2) {
        const int hi = nibble(token[i]);
        const int lo = nibble(token[i + 1]);
        ok = hi >= 0 && lo >= 0;
        plain += static_cast<char>(hi * 16 + lo);
    }
    if (!ok || plain.size() < 2 || plain[0] != kind || plain[1] != ':') {
        throw InvalidArgument("not a page token from this server", "page_token");
    }
    return plain.substr(2);
}

int ClampPageSize(int page_size) {
    if (page_size < 0) throw InvalidArgument("must be >= 0", "page_size");
    if (page_size == 0) return 50;
    return std::min(page_size, 1000);
}

}  // namespace hilnas::store
