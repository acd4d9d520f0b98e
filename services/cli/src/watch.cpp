// hilnas watch: follows a job until it ends. On a terminal, one live progress
// line (trials done of the budget, the best value of each objective, the
// hypervolume); piped, the events as JSON lines. A lost controller (a
// restart) is waited for: the stream resumes after the last event seen.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include "hilnas/common/errors.h"
#include "session.h"

namespace hilnas::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The progress line. Counts and the best values come from GetJob and
// GetParetoFront (the best value of each objective is on the front), read
// again when events say they changed, at most every `kRefresh`.
class ProgressLine {
  public:
    explicit ProgressLine(const Session& s) : s_(s) {}

    void Dirty() { dirty_ = true; }
    void Hypervolume(double hv) { hv_ = hv; }
    void Note(std::string note) { note_ = std::move(note), Draw(); }

    // False when the controller could not be reached (the line stays as it was).
    bool Refresh(bool force) {
        const auto now = Clock::now();
        if (!force && (!dirty_ || now - refreshed_ < kRefresh)) return true;
        try {
            job_ = s_.GetJob(job_id_);
            front_ = s_.GetParetoFront(job_id_);
        } catch (const Unavailable&) {
            return false;
        }
        hv_ = job_.hypervolume();
        dirty_ = false;
        refreshed_ = now;
        note_.clear();
        Draw();
        return true;
    }
    void Start(const v1::Job& job) {
        job_id_ = job.job_id();
        job_ = job;
        Refresh(true);
    }
    // The final counts (waiting out a last restart a little), and a newline.
    void Finish() {
        for (int attempt = 0; attempt < 20 && !Refresh(true); ++attempt) {
            std::this_thread::sleep_for(milliseconds(500));
        }
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }

  private:
    static constexpr milliseconds kRefresh{500};

    void Draw() {
        const v1::TrialCounts& n = job_.trials();
        const int done = n.complete() + n.failed() + n.infeasible() + n.stale();
        const int budget = job_.spec().budget().max_trials();
        // A bar of the budget spent: one '#' per 5%.
        constexpr int kBar = 20;
        const int filled = budget > 0 ? std::clamp(done * kBar / budget, 0, kBar) : 0;
        std::string line = "job " + job_id_.substr(0, 8) + " " + JobStateName(job_.state()) + "  " +
                           std::to_string(done) + "/" + std::to_string(budget) + " trials [" +
                           std::string(static_cast<size_t>(filled), '#') +
                           std::string(static_cast<size_t>(kBar - filled), '-') + "] (" +
                           std::to_string(n.complete()) + " complete";
        if (n.infeasible() > 0) line += ", " + std::to_string(n.infeasible()) + " infeasible";
        if (n.failed() > 0) line += ", " + std::to_string(n.failed()) + " failed";
        const int running = n.training() + n.trained() + n.measuring();
        if (running > 0) line += ", " + std::to_string(running) + " running";
        line += ")  best:";
        for (int o : front_.objectives()) {
            double best = std::numeric_limits<double>::infinity();
            for (const v1::Trial& t : front_.trials()) {
                for (const auto& v : t.objectives()) {
                    if (v.objective() == o) best = std::min(best, v.value());
                }
            }
            line += " " + ObjectiveName(o) + " " + (std::isfinite(best) ? ShortNumber(best) : "-");
        }
        line += "  hypervolume " + ShortNumber(hv_);
        if (!note_.empty()) line += "  [" + note_ + "]";
        if (line == drawn_) return;  // unchanged: a log of the output stays short
        drawn_ = line;
        // Back to the start of the line and clear it: the line is redrawn in place.
        std::fprintf(stdout, "\r\033[K%s", line.c_str());
        std::fflush(stdout);
    }

    const Session& s_;
    std::string job_id_;
    v1::Job job_;
    v1::ParetoFront front_;
    double hv_ = 0;
    bool dirty_ = false;
    Clock::time_point refreshed_{};
    std::string note_;
    std::string drawn_;  // the line on screen
};

}  // namespace

int Watch(const Args& args) {
    Session s;
    if (!Open("hilnas watch JOB_ID [--after EVENT_ID] [--format progress|json] [--retry-for 2m]",
              args, s,
              {{"after", OptionType::kInt, "0", "resume after this event id"},
               {"format", OptionType::kString, "",
                "progress (one live line) or json (JSON lines); empty: progress on a terminal"},
               {"retry_for", OptionType::kDuration, "2m",
                "how long to wait for a lost controller before giving up"}})) {
        return 0;
    }
    int64_t after = s.config.GetInt("after");
    if (after < 0) throw InvalidArgument("must be >= 0", "--after");
    std::string format = s.config.GetString("format");
    if (format.empty()) format = ::isatty(STDOUT_FILENO) ? "progress" : "json";
    if (format != "progress" && format != "json") {
        throw InvalidArgument("must be progress or json, not '" + format + "'", "--format");
    }
    const milliseconds retry_for = s.config.GetDuration("retry_for");
    const std::string& job_id = OneId(s, "JOB_ID");
    // The first call says at once whether the controller is there and knows the job.
    const v1::Job job = s.GetJob(job_id);
    const bool progress = format == "progress";
    ProgressLine line(s);
    if (progress) line.Start(job);

    milliseconds backoff{250};
    std::optional<Clock::time_point> lost_since;
    for (;;) {
        v1::WatchJobRequest req;
        req.set_job_id(job_id);
        req.set_after_event_id(after);
        grpc::ClientContext ctx;  // no deadline: it follows the job to its end
        if (!s.client.channel.token.empty()) {
            ctx.AddMetadata("authorization", "Bearer " + s.client.channel.token);
        }
        auto reader = s.stub->WatchJob(&ctx, req);
        v1::JobEvent event;
        while (reader->Read(&event)) {
            after = event.event_id();
            lost_since.reset();
            backoff = milliseconds(250);
            if (!progress) {
                std::cout << Print(event) << std::endl;
                continue;
            }
            if (event.has_hypervolume()) line.Hypervolume(event.hypervolume().hypervolume());
            line.Dirty();
            line.Refresh(false);
        }
        const grpc::Status status = reader->Finish();
        if (status.ok()) break;  // the job reached a final state
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE) Check(status, s.client);
        // The controller went away (a restart, a network cut): wait for it.
        const auto now = Clock::now();
        if (!lost_since) lost_since = now;
        if (now - *lost_since >= retry_for) {
            if (progress) std::fputc('\n', stdout);
            throw Unavailable("lost for " +
                                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                     now - *lost_since)
                                                     .count()) +
                                  " s (--retry-for): " + status.error_message(),
                              "controller " + s.client.controller);
        }
        if (progress) {
            line.Note("controller unavailable, retrying in " + std::to_string(backoff.count()) +
                      " ms");
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, milliseconds(4000));
    }
    if (progress) line.Finish();
    return 0;
}

}  // namespace hilnas::cli
