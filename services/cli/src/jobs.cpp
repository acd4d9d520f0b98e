// hilnas submit | jobs | job | trials | front | cancel: the search
// service from the command line. Output is JSON (one object, or JSON lines for
// streams) so it composes with jq and scripts.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hilnas/catalog/metrics.h"
#include "hilnas/catalog/objectives.h"
#include "hilnas/cli/yaml_message.h"
#include "hilnas/common/errors.h"
#include "hilnas/rpc/status.h"
#include "hilnas/v1/search_service.grpc.pb.h"
#include "session.h"

namespace hilnas::cli {

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
    if (!s.config.positional().empty()) {
        throw InvalidArgument("unexpected argument", s.config.positional().front());
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
    for (const auto& t : s.ListTrials(OneId(s, "JOB_ID"))) std::cout << Print(t) << "\n";
    return 0;
}

namespace {

// One row of the front: each objective with where it came from (computed by the
// cost model, evaluated on the host int8 runtime, measured, estimated, or
// emulated by QEMU), the energy a measurement carries, and the accuracies.
struct FrontCell {
    bool present = false;
    double value = 0;
    v1::MetricSource source = v1::METRIC_SOURCE_UNSPECIFIED;
};

struct FrontRow {
    const v1::Trial* trial = nullptr;
    std::vector<FrontCell> objectives;  // in the front's objective order
    FrontCell energy;                   // the newest measurement's
    double val_accuracy = std::nan("");
    double test_accuracy = std::nan("");
};

struct FrontTable {
    std::vector<FrontRow> rows;
    // Measured trials carry an energy figure even when the job does not optimise it.
    bool energy_column = false;
};

FrontTable Tabulate(const v1::ParetoFront& front) {
    FrontTable table;
    for (const v1::Trial& t : front.trials()) table.energy_column |= t.measurements_size() > 0;
    for (int o : front.objectives()) {
        table.energy_column = table.energy_column && o != v1::OBJECTIVE_ENERGY_UJ;
    }
    for (const v1::Trial& t : front.trials()) {
        FrontRow row;
        row.trial = &t;
        for (int o : front.objectives()) {
            FrontCell cell;
            for (const auto& v : t.objectives()) {
                if (v.objective() == o) cell = {true, v.value(), v.source()};
            }
            row.objectives.push_back(cell);
        }
        if (t.measurements_size() > 0) {
            const v1::Measurement& m = t.measurements(t.measurements_size() - 1);
            row.energy = {true, m.energy_uj(), m.energy_source()};
        }
        // Selection is on the validation split; the test split is reported only.
        for (const auto& m : t.metrics()) {
            if (m.name() == catalog::kInt8ValAccuracy) row.val_accuracy = m.value();
            if (m.name() == catalog::kInt8TestAccuracy) row.test_accuracy = m.value();
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

std::string Number(double value) {
    if (std::isnan(value)) return "";
    char text[32];  // the shortest text that reads back as the same double
    const auto end = std::to_chars(text, text + sizeof text, value).ptr;
    return std::string(text, end);
}

void PrintFrontTable(const v1::ParetoFront& front) {
    const FrontTable table = Tabulate(front);
    auto tagged = [](const FrontCell& cell) {
        if (!cell.present) return std::string("-");
        char text[64];
        std::snprintf(text, sizeof text, "%.6g %s", cell.value, SourceName(cell.source).c_str());
        return std::string(text);
    };
    std::printf("%-6s", "trial");
    for (int o : front.objectives()) std::printf(" %22s", ObjectiveName(o).c_str());
    if (table.energy_column) std::printf(" %22s", "ENERGY_UJ");
    std::printf(" %9s %9s  %s\n", "val_acc", "test_acc", "trial id");
    for (const FrontRow& row : table.rows) {
        std::printf("%-6d", row.trial->number());
        for (const FrontCell& cell : row.objectives) std::printf(" %22s", tagged(cell).c_str());
        if (table.energy_column) std::printf(" %22s", tagged(row.energy).c_str());
        std::printf(" %9.4f %9.4f  %s\n", row.val_accuracy, row.test_accuracy,
                    row.trial->trial_id().c_str());
    }
    std::printf(
        "%zu trials on the front, hypervolume %.6g (objectives over the job's reference point)\n",
        static_cast<size_t>(front.trials_size()), front.hypervolume());
}

// CSV: one header row, then one row per trial; values in full precision,
// each objective followed by its source.
void PrintFrontCsv(const v1::ParetoFront& front) {
    const FrontTable table = Tabulate(front);
    std::string header = "trial,trial_id";
    for (int o : front.objectives()) {
        const std::string_view known = catalog::ObjectiveName(o);
        const std::string name = known.empty() ? std::to_string(o) : std::string(known);
        header += "," + name + "," + name + "_source";
    }
    if (table.energy_column) header += ",energy_uj,energy_uj_source";
    header += std::string(",") + catalog::kInt8ValAccuracy + "," + catalog::kInt8TestAccuracy;
    std::cout << header << "\n";
    auto cells = [](const FrontCell& cell) {
        return cell.present ? Number(cell.value) + "," + SourceName(cell.source) : ",";
    };
    for (const FrontRow& row : table.rows) {
        // Trial ids are UUIDs and sources are words: nothing here needs quoting.
        std::string line = std::to_string(row.trial->number()) + "," + row.trial->trial_id();
        for (const FrontCell& cell : row.objectives) line += "," + cells(cell);
        if (table.energy_column) line += "," + cells(row.energy);
        line += "," + Number(row.val_accuracy) + "," + Number(row.test_accuracy);
        std::cout << line << "\n";
    }
}

}  // namespace

int Front(const Args& args) {
    Session s;
    if (!Open("hilnas front JOB_ID [--format json|table|csv] [--table]", args, s,
              {{"format", OptionType::kString, "json", "json, table or csv"},
               {"table", OptionType::kBool, "false", "the same as --format table"}})) {
        return 0;
    }
    OutputFormat format = ParseFormat(s.config.GetString("format"));
    if (s.config.GetBool("table")) {
        if (s.config.SourceOf("format") != Config::Source::kDefault &&
            format != OutputFormat::kTable) {
            throw InvalidArgument("conflicts with --format " + s.config.GetString("format"),
                                  "--table");
        }
        format = OutputFormat::kTable;
    }
    const v1::ParetoFront front = s.GetParetoFront(OneId(s, "JOB_ID"));
    switch (format) {
        case OutputFormat::kJson:
            std::cout << Print(front) << "\n";
            break;
        case OutputFormat::kTable:
            PrintFrontTable(front);
            break;
        case OutputFormat::kCsv:
            PrintFrontCsv(front);
            break;
    }
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

}  // namespace hilnas::cli
