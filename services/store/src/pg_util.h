// Helpers shared by the store's sources: error mapping, transactions, and
// conversions between rows and protobuf messages. Internal to services/store.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/job.pb.h"
#include "hilnas/v1/trial.pb.h"
#include "hilnas/v1/work_service.pb.h"

namespace hilnas::store {

// Rethrows the exception being handled as a hilnas::Error: connection
// failures -> Unavailable, statement timeouts -> DeadlineExceeded, unique
// violations -> AlreadyExists, the schema's invalid-transition error ->
// FailedPrecondition, and so on. The SQL goes to the log, never into the
// message. Call only from a catch block.
[[noreturn]] void RethrowAsError(std::string_view operation);

// True while handling an exception that a retry of the whole transaction may
// cure (serialization failure, deadlock).
bool IsRetryable(const std::exception& e);

// ---- Values ----

// Checks that `id` is a uuid as the database writes them; InvalidArgument naming `field`.
void CheckUuid(const std::string& id, const char* field);

// A PostgreSQL array literal ({"a","b"}) for a text[] / uuid[] parameter.
std::string TextArray(const std::vector<std::string>& items);
// A float8[] literal with values that round-trip exactly.
std::string DoubleArray(const std::vector<double>& values);
std::string FormatDouble(double value);

// A parameter that is NULL when the string is empty.
inline const char* NullIfEmpty(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// Microseconds since the epoch (the schema's hilnas_epoch_us) into a
// Timestamp field of `message`; a NULL leaves the field absent.
template <typename Message>
void SetTimestamp(const pqxx::field& us, Message* message,
                  google::protobuf::Timestamp* (Message::*mutable_field)()) {
    if (us.is_null()) return;
    *(message->*mutable_field)() =
        google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(us.as<int64_t>());
}

// Microseconds since the epoch (hilnas_epoch_us, not NULL) as a time point.
inline std::chrono::system_clock::time_point FromEpochUs(const pqxx::field& us) {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(us.as<int64_t>()));
}

std::string ToJson(const google::protobuf::Message& message);
void FromJson(const std::string& json, google::protobuf::Message* message);

// ---- Enumerations as the schema spells them ----
const char* TrialStateName(v1::TrialState state);  // "pending", ...; "" for UNSPECIFIED
v1::TrialState ParseTrialState(const std::string& name);
const char* JobStateName(v1::JobState state);
v1::JobState ParseJobState(const std::string& name);
const char* ObjectiveName(v1::Objective objective);  // "" for UNSPECIFIED / unknown
v1::Objective ParseObjective(const std::string& name);
const char* MetricSourceName(v1::MetricSource source);
v1::MetricSource ParseMetricSource(const std::string& name);
const char* ArtifactKindName(v1::ArtifactKind kind);
v1::ArtifactKind ParseArtifactKind(const std::string& name);
const char* BoardHealthName(v1::BoardHealth health);
v1::BoardHealth ParseBoardHealth(const std::string& name);
const char* DebuggerName(v1::Debugger debugger);
v1::Debugger ParseDebugger(const std::string& name);
const char* MeterName(v1::EnergyMeter meter);
v1::EnergyMeter ParseMeter(const std::string& name);

// ---- Page tokens ----
// Opaque to clients: "<kind>:<fields>" in hex. Decode throws InvalidArgument
// naming "page_token" for anything this store did not write.
std::string EncodePageToken(char kind, const std::string& payload);
std::string DecodePageToken(char kind, const std::string& token);
int ClampPageSize(int page_size);

}  // namespace hilnas::store
