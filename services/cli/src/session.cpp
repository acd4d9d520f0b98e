#include "session.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>

#include "hilnas/catalog/objectives.h"
#include "hilnas/common/errors.h"
#include "hilnas/rpc/status.h"

namespace hilnas::cli {

std::string Print(const google::protobuf::Message& m) {
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) {
        throw Internal("cannot print the reply as JSON");
    }
    return out;
}

void Check(const grpc::Status& status, const ClientOptions& client) {
    if (status.ok()) return;
    // The status's own kind (NOT_FOUND stays a NotFound, ...): main() turns
    // each into its exit status, and the message names the gRPC code.
    rpc::ThrowStatus(status, ("controller " + client.controller).c_str());
}

std::unique_ptr<grpc::ClientContext> Session::Context() const {
    return rpc::MakeContext(client.timeout, client.channel.token);
}

v1::Job Session::GetJob(const std::string& job_id) const {
    v1::GetJobRequest req;
    req.set_job_id(job_id);
    v1::Job job;
    auto ctx = Context();
    Check(stub->GetJob(ctx.get(), req, &job), client);
    return job;
}

std::vector<v1::Trial> Session::ListTrials(const std::string& job_id) const {
    std::vector<v1::Trial> trials;
    v1::ListTrialsRequest req;
    req.set_job_id(job_id);
    req.mutable_page()->set_page_size(1000);
    do {
        v1::ListTrialsResponse resp;
        auto ctx = Context();
        Check(stub->ListTrials(ctx.get(), req, &resp), client);
        for (auto& t : *resp.mutable_trials()) trials.push_back(std::move(t));
        req.mutable_page()->set_page_token(resp.next_page_token());
    } while (!req.page().page_token().empty());
    return trials;
}

v1::ParetoFront Session::GetParetoFront(const std::string& job_id) const {
    v1::GetParetoFrontRequest req;
    req.set_job_id(job_id);
    v1::ParetoFront front;
    auto ctx = Context();
    Check(stub->GetParetoFront(ctx.get(), req, &front), client);
    return front;
}

bool Open(const std::string& usage, const Args& args, Session& s,
          const std::vector<OptionSpec>& extra) {
    ConfigSchema schema;
    AddClientOptions(schema);
    for (const auto& o : extra) schema.Add(o);
    if (!LoadOrHelp(usage, schema, args, s.config)) return false;
    s.client = ClientOptionsFrom(s.config);
    s.channel = rpc::MakeChannel(s.client.controller, s.client.channel);
    s.stub = v1::SearchService::NewStub(s.channel);
    return true;
}

const std::string& OneId(const Session& s, const char* what) {
    if (s.config.positional().size() != 1) {
        throw InvalidArgument("give exactly one (see --help)", what);
    }
    return s.config.positional()[0];
}

OutputFormat ParseFormat(const std::string& text) {
    if (text == "json") return OutputFormat::kJson;
    if (text == "table") return OutputFormat::kTable;
    if (text == "csv") return OutputFormat::kCsv;
    throw InvalidArgument("must be json, table or csv, not '" + text + "'", "--format");
}

std::string ObjectiveName(int objective) {
    const std::string label = catalog::ObjectiveLabel(objective);
    return label.empty() ? std::to_string(objective) : label;
}

std::string JobStateName(v1::JobState state) {
    std::string name = v1::JobState_Name(state);
    if (name.rfind("JOB_", 0) == 0) name = name.substr(4);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

std::string ShortNumber(double value) {
    if (!std::isfinite(value)) return "-";
    char text[32];
    const double a = std::fabs(value);
    if (a >= 1e6) {
        std::snprintf(text, sizeof text, "%.3gM", value / 1e6);
    } else if (a >= 1e4) {
        std::snprintf(text, sizeof text, "%.3gk", value / 1e3);
    } else {
        std::snprintf(text, sizeof text, "%.4g", value);
    }
    return text;
}

std::string SourceName(v1::MetricSource source) {
    std::string name = v1::MetricSource_Name(source);
    const std::string prefix = "METRIC_SOURCE_";
    if (name.rfind(prefix, 0) != 0) return "?";
    name = name.substr(prefix.size());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name == "unspecified" ? "?" : name;
}

}  // namespace hilnas::cli
