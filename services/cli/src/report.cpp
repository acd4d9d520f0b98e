// hilnas report: a job's results as one self-contained HTML page.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "hilnas/common/errors.h"
#include "hilnas/common/version.h"
#include "report_html.h"
#include "session.h"

namespace hilnas::cli {

namespace {

bool Finished(v1::JobState s) {
    return s == v1::JOB_COMPLETED || s == v1::JOB_CANCELLED || s == v1::JOB_FAILED;
}

// The job's recorded hypervolume series, from its events. The stream ends by
// itself for a finished job; for a running one, reading stops once the series
// reaches the trials complete when the job was read, or at the deadline.
std::vector<std::pair<int, double>> HypervolumeSeries(const Session& s, const v1::Job& job) {
    if (!Finished(job.state()) && job.trials().complete() == 0) return {};  // none recorded yet
    v1::WatchJobRequest req;
    req.set_job_id(job.job_id());
    auto ctx = s.Context();
    auto reader = s.stub->WatchJob(ctx.get(), req);
    std::vector<std::pair<int, double>> series;
    v1::JobEvent event;
    bool caught_up = false;
    while (!caught_up && reader->Read(&event)) {
        if (!event.has_hypervolume()) continue;
        const int n = event.hypervolume().completed_trials();
        const double hv = event.hypervolume().hypervolume();
        if (!series.empty() && series.back().first == n) {
            series.back().second = hv;  // recorded again after a restart
        } else {
            series.emplace_back(n, hv);
        }
        caught_up = !Finished(job.state()) && n >= job.trials().complete();
    }
    if (caught_up) ctx->TryCancel();
    const grpc::Status status = reader->Finish();
    // A running job's stream is cut short on purpose (or by the deadline):
    // what was read is the series so far.
    const bool cut =
        status.error_code() == grpc::StatusCode::CANCELLED ||
        (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !Finished(job.state()));
    if (!cut) Check(status, s.client);
    return series;
}

std::string UtcNow() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

}  // namespace

int Report(const Args& args) {
    Session s;
    if (!Open("hilnas report JOB_ID -o report.html", args, s,
              {{"o", OptionType::kString, "", "the HTML file to write"}})) {
        return 0;
    }
    const std::string out = s.config.GetString("o");
    const std::string& job_id = OneId(s, "JOB_ID");
    if (out.empty()) throw InvalidArgument("is required: the HTML file to write", "-o");

    ReportData data;
    data.job = s.GetJob(job_id);
    data.trials = s.ListTrials(job_id);
    data.front = s.GetParetoFront(job_id);
    data.hypervolume = HypervolumeSeries(s, data.job);
    data.generated_at = UtcNow();
    data.generator = std::string("hilnas ") + Version();
    const std::string html = RenderReport(data);

    // Written whole or not at all: a reader never sees half a page.
    const std::string tmp = out + ".tmp";
    {
        std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
        file << html;
        if (!file.flush()) {
            std::remove(tmp.c_str());
            throw InvalidArgument("cannot write the file", out);
        }
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw InvalidArgument("cannot write the file", out);
    }
    nlohmann::ordered_json j;
    j["file"] = out;
    j["bytes"] = html.size();
    j["job_id"] = job_id;
    j["trials"] = data.trials.size();
    j["front"] = data.front.trials_size();
    j["hypervolume_points"] = data.hypervolume.size();
    std::cout << j.dump() << "\n";
    return 0;
}

}  // namespace hilnas::cli
