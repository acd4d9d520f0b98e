// The hilnas command as a user runs it against a real controller and
// PostgreSQL, over a small job completed by in-test trainer and agent loops:
// front in every format, export of a chosen trial, the farm and the workers,
// and watch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_support.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::Hilnas;
using testing::Lines;

std::vector<std::string> SplitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<std::string> SplitCsv(const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    return cells;
}

class CliJob : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir;
        controller_ = new testing::ControllerProcess(
            testing::FreshDatabase("cli"), dir_->path().string(), {"--scheduler.tick", "200ms"});
        job_id_ = testing::RunSmallJob(controller_->address());
    }
    static void TearDownTestSuite() {
        delete controller_;
        delete dir_;
    }
    void SetUp() override { ASSERT_FALSE(job_id_.empty()) << controller_->Log(); }
    static std::string Address() { return controller_->address(); }
    // Through the API, to check what the command prints.
    static v1::ParetoFront Front() {
        auto stub = v1::SearchService::NewStub(rpc::MakeChannel(Address()));
        v1::GetParetoFrontRequest req;
        req.set_job_id(job_id_);
        v1::ParetoFront front;
        auto ctx = rpc::MakeContext(10s);
        EXPECT_TRUE(stub->GetParetoFront(ctx.get(), req, &front).ok());
        return front;
    }

    static testing::TempDir* dir_;
    static testing::ControllerProcess* controller_;
    static std::string job_id_;
};

testing::TempDir* CliJob::dir_ = nullptr;
testing::ControllerProcess* CliJob::controller_ = nullptr;
std::string CliJob::job_id_;

TEST_F(CliJob, FrontPrintsJsonByDefaultAndTableAndCsvOnRequest) {
    const v1::ParetoFront front = Front();
    ASSERT_GT(front.trials_size(), 0);
    ASSERT_EQ(front.objectives_size(), 4);

    const ProcessResult json = Hilnas({"front", job_id_, "--controller", Address()});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto j = nlohmann::json::parse(json.out);
    ASSERT_EQ(j.at("trials").size(), static_cast<size_t>(front.trials_size()));
    EXPECT_EQ(j.at("trials")[0].at("trial_id"), front.trials(0).trial_id());
    EXPECT_EQ(Hilnas({"front", job_id_, "--format", "json", "--controller", Address()}).out,
              json.out);

    // --table is --format table.
    const ProcessResult table =
        Hilnas({"front", job_id_, "--format", "table", "--controller", Address()});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_EQ(Hilnas({"front", job_id_, "--table", "--controller", Address()}).out, table.out);
    const auto rows = SplitLines(table.out);
    ASSERT_EQ(rows.size(), static_cast<size_t>(front.trials_size()) + 2);
    EXPECT_THAT(rows[0],
                ::testing::MatchesRegex(
                    "trial +ERROR +FLASH_BYTES +SRAM_BYTES +LATENCY_MS +ENERGY_UJ +val_acc "
                    "+test_acc +trial id"));
    for (int i = 0; i < front.trials_size(); ++i) {
        EXPECT_THAT(rows[static_cast<size_t>(i) + 1], HasSubstr(front.trials(i).trial_id()));
        EXPECT_THAT(rows[static_cast<size_t>(i) + 1], HasSubstr(" emulated"));  // latency's source
    }
    EXPECT_THAT(rows.back(),
                HasSubstr(std::to_string(front.trials_size()) + " trials on the front"));

    const ProcessResult csv =
        Hilnas({"front", job_id_, "--format", "csv", "--controller", Address()});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    const auto lines = SplitLines(csv.out);
    ASSERT_EQ(lines.size(), static_cast<size_t>(front.trials_size()) + 1);
    const auto header = SplitCsv(lines[0]);
    EXPECT_EQ(header,
              (std::vector<std::string>{"trial", "trial_id", "error", "error_source", "flash_bytes",
                                        "flash_bytes_source", "sram_bytes", "sram_bytes_source",
                                        "latency_ms", "latency_ms_source", "energy_uj",
                                        "energy_uj_source", "int8_val_accuracy", "int8_accuracy"}));
    for (int i = 0; i < front.trials_size(); ++i) {
        const v1::Trial& t = front.trials(i);
        const auto cells = SplitCsv(lines[static_cast<size_t>(i) + 1]);
        ASSERT_EQ(cells.size(), header.size()) << lines[static_cast<size_t>(i) + 1];
        EXPECT_EQ(cells[0], std::to_string(t.number()));
        EXPECT_EQ(cells[1], t.trial_id());
        for (int k = 0; k < front.objectives_size(); ++k) {
            for (const auto& v : t.objectives()) {
                if (v.objective() != front.objectives(k)) continue;
                const size_t col = 2 + 2 * static_cast<size_t>(k);
                EXPECT_DOUBLE_EQ(std::stod(cells[col]), v.value()) << header[col];
                EXPECT_FALSE(cells[col + 1].empty());
            }
        }
    }
}

TEST_F(CliJob, FrontRefusesAnUnknownFormatAndAConflict) {
    const ProcessResult bad =
        Hilnas({"front", job_id_, "--format", "xml", "--controller", Address()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(Lines(bad.err), 1) << bad.err;
    EXPECT_THAT(bad.err, HasSubstr("--format: must be json, table or csv, not 'xml'"));
    const ProcessResult conflict =
        Hilnas({"front", job_id_, "--format", "csv", "--table", "--controller", Address()});
    EXPECT_EQ(conflict.exit_code, 2);
    EXPECT_THAT(conflict.err, HasSubstr("--table: conflicts with --format csv"));
}

TEST_F(CliJob, ExportsATrialAsItsArtifactByIdOrNumber) {
    const v1::ParetoFront front = Front();
    ASSERT_GT(front.trials_size(), 0);
    const v1::Trial& trial = front.trials(0);
    std::string stored_sha;
    for (const auto& a : trial.artifacts()) {
        if (a.kind() == v1::ARTIFACT_INT8_MODEL) stored_sha = a.sha256();
    }
    ASSERT_FALSE(stored_sha.empty());
    testing::TempDir dir;
    const ProcessResult by_id = Hilnas({"export", job_id_, trial.trial_id(), "--kind", "artifact",
                                        "-o", dir / "by-id.hnm", "--controller", Address()});
    ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
    const auto j = nlohmann::json::parse(by_id.out);
    EXPECT_EQ(j.at("trial_id"), trial.trial_id());
    EXPECT_EQ(j.at("trial"), trial.number());
    // The file is the stored artifact, byte for byte.
    EXPECT_EQ(artifact::Sha256Hex(testing::Slurp(dir / "by-id.hnm")), stored_sha);
    EXPECT_EQ(artifact::ReadArtifact(dir / "by-id.hnm").sha256(), j.at("sha256"));

    const ProcessResult by_number =
        Hilnas({"export", job_id_, std::to_string(trial.number()), "--kind", "artifact", "-o",
                dir / "by-number.hnm", "--controller", Address()});
    ASSERT_EQ(by_number.exit_code, 0) << by_number.err;
    EXPECT_EQ(testing::Slurp(dir / "by-number.hnm"), testing::Slurp(dir / "by-id.hnm"));

    const ProcessResult missing = Hilnas({"export", job_id_, "999", "--kind", "artifact", "-o",
                                          dir / "x.hnm", "--controller", Address()});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(Lines(missing.err), 1) << missing.err;
    EXPECT_THAT(missing.err, HasSubstr("has no trial number 999"));
    EXPECT_FALSE(std::filesystem::exists(dir / "x.hnm"));
}

// The C sources are a complete project: with a five-line main they compile
// with the host's C compiler, link, and run the model.
TEST_F(CliJob, ExportsCSourcesThatCompileAndRunOnTheirOwn) {
    const v1::ParetoFront front = Front();
    ASSERT_GT(front.trials_size(), 0);
    testing::TempDir dir;
    const std::string out = dir / "model";
    const ProcessResult r = Hilnas({"export", job_id_, front.trials(0).trial_id(), "--kind", "c",
                                    "-o", out, "--controller", Address()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j.at("arena_bytes").get<int64_t>(), 0);
    for (const auto& f : j.at("files")) {
        EXPECT_TRUE(std::filesystem::is_regular_file(out + "/" + f.get<std::string>())) << f;
    }
    EXPECT_THAT(testing::Slurp(out + "/model.h"), HasSubstr("int32_t model_invoke(void);"));
    std::ofstream(out + "/main.c")
        << "#include <string.h>\n#include \"model.h\"\n"
           "int main(void) {\n  memset(model_input(), 1, MODEL_INPUT_BYTES);\n"
           "  return (int)model_invoke();\n}\n";
    ProcessOptions cc;
    // Built as the command says: its include directories, its sources (the portable kernels).
    cc.argv = {"cc", "-std=c99", "-O1", "-o", out + "/demo", out + "/main.c", out + "/model.c"};
    for (const auto& include : j.at("include_dirs")) {
        cc.argv.push_back("-I" + out + "/" + include.get<std::string>());
    }
    for (const char* part : {"common", "reference"}) {
        for (const auto& e : std::filesystem::directory_iterator(out + "/hilnas_nn/src/" + part)) {
            if (e.path().extension() == ".c") cc.argv.push_back(e.path().string());
        }
    }
    cc.timeout = 120s;
    const ProcessResult built = RunProcess(cc);
    ASSERT_TRUE(built.ok()) << built.Describe() << "\n" << built.err;
    ProcessOptions run;
    run.argv = {out + "/demo"};
    run.timeout = 60s;
    const ProcessResult ran = RunProcess(run);
    // main() returns model_invoke(): 0, or 1 + the index of the layer whose kernel failed.
    EXPECT_TRUE(ran.ok()) << "model_invoke() " << ran.Describe();
}

TEST_F(CliJob, ExportsAFlashableElfForTheJobsBoard) {
    const v1::ParetoFront front = Front();
    ASSERT_GT(front.trials_size(), 0);
    testing::TempDir dir;
    const ProcessResult r =
        Hilnas({"export", job_id_, front.trials(0).trial_id(), "--kind", "elf", "-o",
                dir / "fw.elf", "--runtime", "reference", "--controller", Address()},
               600s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("board"), "qemu-netduinoplus2");  // the job's
    EXPECT_EQ(j.at("elf"), dir / "fw.elf");
    EXPECT_GT(j.at("flash_bytes").get<int64_t>(), j.at("arena_bytes").get<int64_t>());
    const std::string elf = testing::Slurp(dir / "fw.elf");
    ASSERT_GT(elf.size(), 4u);
    EXPECT_EQ(elf.substr(0, 4),
              "\x7f"
              "ELF");
    // Nothing else is left next to it.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

// Piped, watch prints the job's events as JSON lines, in order, and ends with the job.
TEST_F(CliJob, WatchPrintsJsonLinesWhenPiped) {
    const ProcessResult r = Hilnas({"watch", job_id_, "--controller", Address()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    int64_t last = 0;
    std::string final_state;
    for (const std::string& line : SplitLines(r.out)) {
        const auto event = nlohmann::json::parse(line);
        const int64_t id = std::stoll(event.at("event_id").get<std::string>());
        EXPECT_GT(id, last);
        last = id;
        if (event.contains("job_state")) final_state = event.at("job_state").at("to");
    }
    EXPECT_EQ(final_state, "JOB_COMPLETED");
    // --after resumes: only the later events.
    const ProcessResult later =
        Hilnas({"watch", job_id_, "--after", std::to_string(last - 1), "--controller", Address()});
    ASSERT_EQ(later.exit_code, 0) << later.err;
    EXPECT_EQ(Lines(later.out), 1);
    EXPECT_EQ(later.out, SplitLines(r.out).back() + "\n");
}

// On a terminal, one progress line redrawn in place: trials done of the
// budget, the best of each objective, the hypervolume.
TEST_F(CliJob, WatchDrawsAProgressLineOnATerminal) {
    const v1::ParetoFront front = Front();
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(Address()));
    v1::GetJobRequest get;
    get.set_job_id(job_id_);
    v1::Job job;
    auto ctx = rpc::MakeContext(10s);
    ASSERT_TRUE(stub->GetJob(ctx.get(), get, &job).ok());

    // script(1) runs the command on a pseudo-terminal, as a user's shell would.
    const std::string command = testing::BuildPath("services/cli/hilnas") + " watch " + job_id_ +
                                " --controller " + Address();
    ProcessOptions p;
    p.argv = {"script", "-qfec", command, "/dev/null"};
    p.timeout = 120s;
    const ProcessResult r = RunProcess(p);
    ASSERT_TRUE(r.ok()) << r.Describe() << r.err;
    EXPECT_THAT(r.out, HasSubstr("\r\x1b[K"));  // redrawn in place
    EXPECT_THAT(r.out, Not(HasSubstr("\"event_id\"")));
    // The line as drawn last, without the newline (a terminal's "\r\n").
    auto last_line = [](const std::string& out) {
        std::string line = out.substr(out.rfind("\x1b[K") + 3);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        return line;
    };
    const std::string last = last_line(r.out);
    const int budget = job.spec().budget().max_trials();
    EXPECT_THAT(last, HasSubstr("completed  " + std::to_string(job.trials().complete()) + "/" +
                                std::to_string(budget) + " trials"));
    // Every trial ended: the bar is full.
    EXPECT_THAT(last, HasSubstr("trials [" + std::string(20, '#') + "] ("));
    for (int o : front.objectives()) {
        double best = 1e300;
        for (const auto& t : front.trials()) {
            for (const auto& v : t.objectives()) {
                if (v.objective() == o) best = std::min(best, v.value());
            }
        }
        const std::string name =
            v1::Objective_Name(static_cast<v1::Objective>(o)).substr(std::strlen("OBJECTIVE_"));
        EXPECT_THAT(last, ::testing::ContainsRegex(name + " [0-9.]+k?M?")) << last;
        if (best < 1e4) {
            char text[32];
            std::snprintf(text, sizeof text, "%.4g", best);
            EXPECT_THAT(last, HasSubstr(name + " " + text)) << last;
        }
    }
    char hv[32];
    std::snprintf(hv, sizeof hv, "%.4g", job.hypervolume());
    EXPECT_THAT(last, HasSubstr(std::string("hypervolume ") + hv));

    // The same line without a terminal, on request.
    const ProcessResult forced =
        Hilnas({"watch", job_id_, "--format", "progress", "--controller", Address()});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_EQ(last_line(forced.out), last);
}

// A controller killed and restarted while watch follows a job: watch waits,
// resumes after the last event it saw, and ends with the job, having printed
// every event exactly once.
TEST(CliWatch, ResumesAfterAControllerRestart) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("watch"), dir.path().string(),
                                          {"--scheduler.tick", "200ms"});
    const std::string job_id = testing::SubmitSmallJob(controller.address());
    ASSERT_FALSE(job_id.empty()) << controller.Log();

    ProcessOptions p;
    p.argv = {testing::BuildPath("services/cli/hilnas"),
              "watch",
              job_id,
              "--controller",
              controller.address(),
              "--retry-for",
              "90s"};
    Process watch = Process::Start(p, dir / "watch.out");
    // It has the first events (the job started) before the controller dies.
    for (int i = 0; i < 600 && Lines(testing::Slurp(dir / "watch.out")) == 0; ++i) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_GT(Lines(testing::Slurp(dir / "watch.out")), 0) << controller.Log();
    controller.KillAndRestart();
    ASSERT_TRUE(testing::CompleteJob(controller.address(), job_id)) << controller.Log();

    const auto status = watch.WaitFor(120s);
    ASSERT_TRUE(status.has_value()) << "watch did not end with the job";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << DescribeWaitStatus(*status);
    const std::string followed = testing::Slurp(dir / "watch.out");
    // The whole history, read again at the end, is what it printed live.
    const ProcessResult replay = Hilnas({"watch", job_id, "--controller", controller.address()});
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    EXPECT_EQ(followed, replay.out);
    EXPECT_THAT(followed, HasSubstr("JOB_COMPLETED"));
}

}  // namespace
}  // namespace hilnas
