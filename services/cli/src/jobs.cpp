// hilnas submit | jobs | job | trials | watch | front | cancel: the search
// service from the command line. Output is JSON (one object, or JSON lines for
// streams) so it composes with jq and scripts.
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/errors.h"
#include "hilnas/rpc/status.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas::cli {

namespace {

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
    const std::string text = rpc::DescribeStatus(status);
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::NOT_FOUND ||
        status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
        throw InvalidArgument(text, "controller " + client.controller);
    }
    throw Unavailable(text, "controller " + client.controller);
}

struct Session {
    ClientOptions client;
    std::unique_ptr<v1::SearchService::Stub> stub;
    Config config;
};

bool Open(const std::string& usage, const Args& args, Session& s,
          const std::vector<OptionSpec>& extra = {}) {
    ConfigSchema schema;
    AddClientOptions(schema);
    for (const auto& o : extra) schema.Add(o);
    if (!LoadOrHelp(usage, schema, args, s.config)) return false;
    s.client = ClientOptionsFrom(s.config);
    s.stub = v1::SearchService::NewStub(rpc::MakeChannel(s.client.controller, s.client.channel));
    return true;
}

const std::string& OneId(const Session& s, const char* what) {
    if (s.config.positional().size() != 1) throw InvalidArgument("give one id", what);
    return s.config.positional()[0];
}

}  // namespace

int Submit(const Args& args) {
    Session s;
    if (!Open(
            "hilnas submit JOB.yaml [--request-id ID]", args, s,
            {{"request_id", OptionType::kString, "", "idempotency key (resubmitting is safe)"}})) {
        return 0;
    }
    const std::string& path = OneId(s, "JOB.yaml");
    std::ifstream in(path);
    if (!in) throw InvalidArgument("cannot read the file", path);
    std::ostringstream text;
    text << in.rdbuf();
    v1::SubmitJobRequest req;
    *req.mutable_spec() = JobSpecFromYaml(text.str(), path);
    req.set_request_id(s.config.GetString("request_id"));
    v1::Job job;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->SubmitJob(ctx.get(), req, &job), s.client);
    std::cout << Print(job) << "\n";
    return 0;
}

int Jobs(const Args& args) {
    Session s;
    if (!Open("hilnas jobs [--page-size N] [--page-token T]", args, s,
              {{"page_size", OptionType::kInt, "50", "jobs per page"},
               {"page_token", OptionType::kString, "", "from the previous page"}})) {
        return 0;
    }
    v1::ListJobsRequest req;
    req.mutable_page()->set_page_size(static_cast<int>(s.config.GetInt("page_size")));
    req.mutable_page()->set_page_token(s.config.GetString("page_token"));
    v1::ListJobsResponse resp;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->ListJobs(ctx.get(), req, &resp), s.client);
    std::cout << Print(resp) << "\n";
    return 0;
}

int Job(const Args& args) {
    Session s;
    if (!Open("hilnas job JOB_ID", args, s)) return 0;
    v1::GetJobRequest req;
    req.set_job_id(OneId(s, "JOB_ID"));
    v1::Job job;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->GetJob(ctx.get(), req, &job), s.client);
    std::cout << Print(job) << "\n";
    return 0;
}

int Trials(const Args& args) {
    Session s;
    if (!Open("hilnas trials JOB_ID", args, s)) return 0;
    v1::ListTrialsRequest req;
    req.set_job_id(OneId(s, "JOB_ID"));
    req.mutable_page()->set_page_size(1000);
    v1::ListTrialsResponse resp;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->ListTrials(ctx.get(), req, &resp), s.client);
    for (const auto& t : resp.trials()) std::cout << Print(t) << "\n";
    return 0;
}

int Front(const Args& args) {
    Session s;
    if (!Open("hilnas front JOB_ID [--table]", args, s,
              {{"table", OptionType::kBool, "false", "one row per trial instead of JSON"}})) {
        return 0;
    }
    v1::GetParetoFrontRequest req;
    req.set_job_id(OneId(s, "JOB_ID"));
    v1::ParetoFront front;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->GetParetoFront(ctx.get(), req, &front), s.client);
    if (!s.config.GetBool("table")) {
        std::cout << Print(front) << "\n";
        return 0;
    }
    // Each value with where it came from: computed (cost model), evaluated (host
    // int8 runtime), measured, estimated, emulated (QEMU instruction counts).
    auto tagged = [](double value, v1::MetricSource source) {
        static const char* const kTags[] = {"?",        "computed",  "evaluated",
                                            "measured", "estimated", "emulated"};
        const int i = static_cast<int>(source);
        char cell[64];
        std::snprintf(cell, sizeof cell, "%.6g %s", value, i >= 0 && i < 6 ? kTags[i] : "?");
        return std::string(cell);
    };
    // Measured trials carry an energy figure even when the job does not optimise it.
    bool energy_column = false;
    for (const v1::Trial& t : front.trials()) energy_column |= t.measurements_size() > 0;
    for (int o : front.objectives()) energy_column = energy_column && o != v1::OBJECTIVE_ENERGY_UJ;
    std::printf("%-6s", "trial");
    for (int o : front.objectives()) {
        std::string name = v1::Objective_Name(static_cast<v1::Objective>(o));
        std::printf(" %22s", name.substr(std::string("OBJECTIVE_").size()).c_str());
    }
    if (energy_column) std::printf(" %22s", "ENERGY_UJ");
    // Selection is on the validation split; the test split is reported only.
    std::printf(" %9s %9s  %s\n", "val_acc", "test_acc", "trial id");
    for (const v1::Trial& t : front.trials()) {
        std::printf("%-6d", t.number());
        for (int o : front.objectives()) {
            std::string cell = "-";
            for (const auto& v : t.objectives()) {
                if (v.objective() == o) cell = tagged(v.value(), v.source());
            }
            std::printf(" %22s", cell.c_str());
        }
        if (energy_column) {
            const std::string cell =
                t.measurements_size() > 0
                    ? tagged(t.measurements(t.measurements_size() - 1).energy_uj(),
                             t.measurements(t.measurements_size() - 1).energy_source())
                    : "-";
            std::printf(" %22s", cell.c_str());
        }
        double val = std::nan(""), test = std::nan("");
        for (const auto& m : t.metrics()) {
            if (m.name() == catalog::kInt8ValAccuracy) val = m.value();
            if (m.name() == catalog::kInt8TestAccuracy) test = m.value();
        }
        std::printf(" %9.4f %9.4f  %s\n", val, test, t.trial_id().c_str());
    }
    std::printf(
        "%zu trials on the front, hypervolume %.6g (objectives over the job's reference point)\n",
        static_cast<size_t>(front.trials_size()), front.hypervolume());
    return 0;
}

int Cancel(const Args& args) {
    Session s;
    if (!Open("hilnas cancel JOB_ID [--reason TEXT]", args, s,
              {{"reason", OptionType::kString, "", "why, for the record"}})) {
        return 0;
    }
    v1::CancelJobRequest req;
    req.set_job_id(OneId(s, "JOB_ID"));
    req.set_reason(s.config.GetString("reason"));
    v1::Job job;
    auto ctx = rpc::MakeContext(s.client.timeout, s.client.channel.token);
    Check(s.stub->CancelJob(ctx.get(), req, &job), s.client);
    std::cout << Print(job) << "\n";
    return 0;
}

int Watch(const Args& args) {
    Session s;
    if (!Open("hilnas watch JOB_ID [--after EVENT_ID]", args, s,
              {{"after", OptionType::kInt, "0", "resume after this event id"}})) {
        return 0;
    }
    v1::WatchJobRequest req;
    req.set_job_id(OneId(s, "JOB_ID"));
    req.set_after_event_id(s.config.GetInt("after"));
    grpc::ClientContext ctx;  // no deadline: it follows the job to its end
    if (!s.client.channel.token.empty()) {
        ctx.AddMetadata("authorization", "Bearer " + s.client.channel.token);
    }
    auto reader = s.stub->WatchJob(&ctx, req);
    v1::JobEvent event;
    while (reader->Read(&event)) std::cout << Print(event) << std::endl;
    Check(reader->Finish(), s.client);
    return 0;
}

}  // namespace hilnas::cli
