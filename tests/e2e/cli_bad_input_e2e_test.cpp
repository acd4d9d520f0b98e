// Bad input to every hilnas subcommand: one readable line on stderr that
// names what was wrong, nothing on stdout, a non-zero exit, never a crash.
// Missing arguments, unknown flags, a bad job id, an unreachable controller
// and a bad --format, against a real controller and PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cli_support.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using testing::Hilnas;
using testing::Lines;

struct Case {
    std::vector<std::string> args;  // "{up}": a live controller; "{down}": nothing listens
    std::string expected;           // a substring of the one line
};

constexpr char kUnknownJob[] = "00000000-0000-4000-8000-000000000000";

std::vector<Case> Cases(const testing::TempDir& dir) {
    const std::string model = testing::SourcePath("examples/tiny.json");
    const std::string spec = testing::SourcePath("examples/job.yaml");
    const std::string missing = dir / "missing.file";
    const std::string out = dir / "out";
    std::vector<Case> cases = {
        {{"version", "extra"}, "extra: takes no arguments"},
        {{"local"}, "give db"},
        {{"local", "db", "--bogus", "1"}, "--bogus: unknown flag"},
        {{"ping", "--controller", "{down}"}, "unreachable"},
        {{"ping", "extra", "--controller", "{up}"}, "extra: unexpected argument"},
        {{"ping", "--format", "json"}, "--format: unknown flag"},
        {{"submit"}, "JOB.yaml: give exactly one"},
        {{"submit", missing, "--controller", "{up}"}, missing + ": cannot read the file"},
        {{"submit", spec, "--controller", "{down}"}, "UNAVAILABLE"},
        {{"jobs", "extra", "--controller", "{up}"}, "extra: unexpected argument"},
        {{"jobs", "--page-size", "many"}, "--page-size: must be an integer"},
        {{"jobs", "--controller", "{down}"}, "UNAVAILABLE"},
        {{"arch"}, "give analyze or sample"},
        {{"arch", "frobnicate"}, "unknown subcommand"},
        {{"arch", "analyze"}, "MODEL.json: give exactly one model file"},
        {{"arch", "analyze", missing}, "cannot read the file"},
        {{"arch", "sample", "--n", "-1"}, "--n: must be between"},
        {{"artifact"}, "give random or show"},
        {{"artifact", "show"}, "FILE: give exactly one file"},
        {{"artifact", "show", missing}, missing},
        {{"artifact", "random", model}, "-o: needs an output file"},
        {{"codegen"}, "ARTIFACT: give exactly one file"},
        {{"codegen", missing, "-o", out}, missing},
        {{"firmware"}, "give build"},
        {{"firmware", "build", missing}, "--board: is required"},
        {{"firmware", "build", missing, "--board", "arduino-uno", "-o", out},
         "unknown board type 'arduino-uno'"},
        {{"export"}, "--kind: is required"},
        {{"export", kUnknownJob, "1", "--kind", "zip", "-o", out}, "--kind: must be artifact"},
        {{"export", kUnknownJob, "--kind", "c", "-o", out}, "give JOB_ID and TRIAL"},
        {{"export", kUnknownJob, "1", "--kind", "c"}, "-o: is required"},
        {{"export", kUnknownJob, "1", "--kind", "elf", "--board", "uno", "-o", out},
         "unknown board type 'uno'"},
        {{"export", kUnknownJob, "1", "--kind", "c", "-o", out, "--controller", "{down}"},
         "UNAVAILABLE"},
        {{"report"}, "JOB_ID: give exactly one"},
        {{"report", kUnknownJob}, "-o: is required"},
        {{"report", kUnknownJob, "-o", out, "--controller", "{down}"}, "UNAVAILABLE"},
        {{"front", kUnknownJob, "--format", "xml"}, "--format: must be json, table or csv"},
        {{"front", kUnknownJob, "--format", "csv", "--table"}, "--table: conflicts"},
        {{"cancel", "--reason"}, "--reason"},
        {{"watch", kUnknownJob, "--after", "-1"}, "--after: must be >= 0"},
        {{"watch", kUnknownJob, "--format", "xml"}, "--format: must be progress or json"},
        {{"watch", kUnknownJob, "--retry-for", "soon"}, "--retry-for: must be a duration"},
        {{"boards", "extra", "--controller", "{up}"}, "extra: unexpected argument"},
        {{"boards", "--format", "csv"}, "--format: must be json or table"},
        {{"boards", "--format", "json", "--table"}, "--table: conflicts"},
        {{"boards", "--timeout", "0s"}, "--timeout: must be positive"},
        {{"boards", "--controller", "{down}"}, "UNAVAILABLE"},
        {{"workers", "extra", "--controller", "{up}"}, "extra: unexpected argument"},
        {{"workers", "--format", "xml"}, "--format: must be json or table"},
        {{"workers", "--bogus"}, "--bogus: unknown flag"},
        {{"workers", "--controller", "{down}"}, "UNAVAILABLE"},
    };
    // Every command that reads a job: missing, unknown, malformed, unreachable.
    for (const std::string command : {"job", "trials", "watch", "front", "cancel", "report"}) {
        const std::vector<std::string> extra =
            command == "report" ? std::vector<std::string>{"-o", out} : std::vector<std::string>{};
        auto with = [&](std::vector<std::string> args) {
            args.insert(args.begin(), command);
            args.insert(args.end(), extra.begin(), extra.end());
            return args;
        };
        if (command != "report") cases.push_back({with({}), "JOB_ID: give exactly one"});
        cases.push_back({with({"a", "b"}), "JOB_ID: give exactly one"});
        cases.push_back({with({kUnknownJob, "--controller", "{up}"}), "NOT_FOUND"});
        cases.push_back({with({"not-a-job-id", "--controller", "{up}"}), "job"});
        cases.push_back({with({kUnknownJob, "--controller", "{down}"}), "UNAVAILABLE"});
        cases.push_back({with({kUnknownJob, "--bogus"}), "--bogus: unknown flag"});
        cases.push_back({with({kUnknownJob, "--timeout", "0s"}), "--timeout: must be positive"});
    }
    cases.push_back({{"export", kUnknownJob, "1", "--kind", "c", "-o", out, "--controller", "{up}"},
                     "NOT_FOUND"});
    cases.push_back(
        {{"export", "not-a-job-id", "1", "--kind", "c", "-o", out, "--controller", "{up}"}, "job"});
    return cases;
}

TEST(CliBadInput, EverySubcommandSaysWhatIsWrongInOneLine) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("badinput"), dir.path().string());
    const std::string down = "127.0.0.1:" + std::to_string(store::FreeLoopbackPort());
    std::set<std::string> covered;
    for (Case c : Cases(dir)) {
        const bool unreachable = std::find(c.args.begin(), c.args.end(), "{down}") != c.args.end();
        for (std::string& a : c.args) {
            if (a == "{up}") a = controller.address();
            if (a == "{down}") a = down;
        }
        std::string shown;
        for (const auto& a : c.args) shown += " " + a;
        SCOPED_TRACE("hilnas" + shown);
        const ProcessResult r = Hilnas(c.args, std::chrono::seconds(60));
        EXPECT_FALSE(r.timed_out);
        EXPECT_EQ(r.signal, 0);  // never a crash
        // The exit status keeps the kinds apart (README): 3 not found, 1 an
        // unreachable controller, 2 input that must change.
        const int want = unreachable ? 1 : c.expected == "NOT_FOUND" ? 3 : 2;
        EXPECT_EQ(r.exit_code, want) << r.err;
        EXPECT_EQ(Lines(r.err), 1) << r.err;
        EXPECT_THAT(r.err, ::testing::StartsWith("hilnas " + c.args[0] + ": ")) << r.err;
        EXPECT_THAT(r.err, HasSubstr(c.expected));
        EXPECT_TRUE(r.out.empty()) << r.out;
        covered.insert(c.args[0]);
    }
    // The table covers every subcommand the command lists.
    const ProcessResult help = Hilnas({"--help"});
    ASSERT_EQ(help.exit_code, 0);
    std::istringstream lines(help.out);
    int listed = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("  ", 0) != 0) continue;
        const std::string name = line.substr(2, line.find(' ', 2) - 2);
        EXPECT_TRUE(covered.count(name)) << "no bad-input case for '" << name << "'";
        ++listed;
    }
    EXPECT_GT(listed, 10);
}

}  // namespace
}  // namespace hilnas
