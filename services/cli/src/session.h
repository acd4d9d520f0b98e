// A command's connection to the controller's SearchService, and the helpers
// the commands that read jobs share: JSON printing, status mapping, paging.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas::cli {

// One message as one line of JSON, with the proto's field names.
std::string Print(const google::protobuf::Message& m);

// OK returns; INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION and
// ALREADY_EXISTS throw InvalidArgument (the user's request); anything else
// throws Unavailable. Either names the controller.
void Check(const grpc::Status& status, const ClientOptions& client);

struct Session {
    ClientOptions client;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::SearchService::Stub> stub;
    Config config;

    // A context with the client's deadline and token.
    std::unique_ptr<grpc::ClientContext> Context() const;
    v1::Job GetJob(const std::string& job_id) const;
    // Every trial of the job, all pages, in the controller's order.
    std::vector<v1::Trial> ListTrials(const std::string& job_id) const;
    v1::ParetoFront GetParetoFront(const std::string& job_id) const;
};

// Declares the client options and `extra`, loads `args` and opens the
// channel. False when --help was asked for (the help is printed).
bool Open(const std::string& usage, const Args& args, Session& s,
          const std::vector<OptionSpec>& extra = {});

// The only positional argument; InvalidArgument naming `what` otherwise.
const std::string& OneId(const Session& s, const char* what);

enum class OutputFormat { kJson, kTable, kCsv };
// "json", "table" or "csv"; InvalidArgument naming --format otherwise.
OutputFormat ParseFormat(const std::string& text);

// The objective's short name: OBJECTIVE_FLASH_BYTES -> "FLASH_BYTES".
std::string ObjectiveName(int objective);
// The job state's short name in lower case: JOB_RUNNING -> "running".
std::string JobStateName(v1::JobState state);
// A number for people: 0.0831, 8452, 12.5k, 1.2M.
std::string ShortNumber(double value);
// The source's short name in lower case: METRIC_SOURCE_MEASURED -> "measured".
std::string SourceName(v1::MetricSource source);

}  // namespace hilnas::cli
