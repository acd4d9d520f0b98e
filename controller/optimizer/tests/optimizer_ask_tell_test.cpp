// `hilnas-bench-optimizer --problem stdio`, the ask/tell mode for any black
// box, driven as a real child process: fed DTLZ2's values it must make exactly
// the run of `--problem dtlz2`, and bad input must end it with one readable
// line on stderr.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../bench/ask_tell.h"
#include "../bench/problems.h"
#include "../bench/runner.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"

namespace hilnas::optimizer::bench {
namespace {

const std::string kBench = HILNAS_BENCH_OPTIMIZER;

std::vector<std::string> StdioArgs(int dims, int objectives, int evals, int seed, int batch) {
    std::vector<std::string> argv = {kBench,
                                     "--problem",
                                     "stdio",
                                     "--dims",
                                     std::to_string(dims),
                                     "--objectives",
                                     std::to_string(objectives),
                                     "--seed",
                                     std::to_string(seed),
                                     "--batch",
                                     std::to_string(batch)};
    if (evals > 0) {
        argv.push_back("--evals");
        argv.push_back(std::to_string(evals));
    }
    return argv;
}

// Feeds the child `problem`'s values and returns the points it asked for.
std::vector<Vector> AskTellRun(const Problem& problem, int evals, int seed, int batch) {
    AskTellPeer peer(StdioArgs(problem.domain->dimension(), problem.domain->num_objectives(), evals,
                               seed, batch));
    std::vector<Vector> points;
    while (static_cast<int>(points.size()) < evals) {
        // A round: every point of the batch is printed before any answer is read.
        const int round = std::min(batch, evals - static_cast<int>(points.size()));
        std::vector<Vector> asked;
        for (int i = 0; i < round; ++i) {
            std::optional<Vector> x = peer.Ask(static_cast<size_t>(problem.domain->dimension()));
            if (!x) break;
            asked.push_back(*x);
        }
        for (const Vector& x : asked) peer.Tell(problem.evaluate(x));
        points.insert(points.end(), asked.begin(), asked.end());
        if (static_cast<int>(asked.size()) < round) break;
    }
    EXPECT_EQ(peer.Finish(), 0);
    return points;
}

TEST(AskTellTest, CsvLinesRoundTripExactly) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Vector v;
    for (int i = 0; i < 50; ++i) v.push_back(unit(rng) * std::pow(10.0, i % 7 - 3));
    v.push_back(0.0);
    v.push_back(1.0);
    EXPECT_EQ(ParseCsvLine(FormatCsvLine(v), v.size(), false), v);
    EXPECT_EQ(ParseCsvLine(" 0.5 , 1e-3\r\n", 2, false), (Vector{0.5, 1e-3}));
    EXPECT_TRUE(std::isnan(ParseCsvLine("nan,1", 2, true)[0]));
    EXPECT_THROW(ParseCsvLine("nan,1", 2, false), InvalidArgument);
    EXPECT_THROW(ParseCsvLine("inf,1", 2, true), InvalidArgument);
    EXPECT_THROW(ParseCsvLine("0.5,abc", 2, true), InvalidArgument);
    EXPECT_THROW(ParseCsvLine("0.5,,1", 3, true), InvalidArgument);
    EXPECT_THROW(ParseCsvLine("0.5", 2, true), InvalidArgument);
    EXPECT_THROW(ParseCsvLine("", 1, true), InvalidArgument);
}

TEST(AskTellTest, StdioReproducesTheBuiltInProblem) {
    const Problem problem = MakeProblem("dtlz2");
    const int evals = 16;  // six model-based suggestions after the warm-up
    const bench::Run reference = RunOnProblem(problem, "mobo", evals, 1, 3, {});
    const std::vector<Vector> points = AskTellRun(problem, evals, 3, 1);
    ASSERT_EQ(points.size(), reference.observed.size());
    for (size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(points[i], reference.observed[i].x) << "evaluation " << i + 1;
    }
}

TEST(AskTellTest, StdioBatchesMatchTheBuiltInProblemToo) {
    const Problem problem = MakeProblem("zdt1");
    const int evals = 18;
    const bench::Run reference = RunOnProblem(problem, "mobo", evals, 4, 5, {});
    const std::vector<Vector> points = AskTellRun(problem, evals, 5, 4);
    ASSERT_EQ(points.size(), reference.observed.size());
    for (size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(points[i], reference.observed[i].x) << "evaluation " << i + 1;
    }
}

ProcessResult RunStdio(std::vector<std::string> argv, const std::string& input) {
    ProcessOptions o;
    o.argv = std::move(argv);
    o.stdin_data = input;
    o.timeout = std::chrono::milliseconds(60000);
    return RunProcess(o);
}

size_t Lines(const std::string& text) {
    size_t n = 0;
    for (char c : text) n += c == '\n';
    return n;
}

TEST(AskTellTest, BadInputEndsWithOneReadableLineOnStderr) {
    const auto argv = StdioArgs(2, 2, 5, 0, 1);
    struct Case {
        std::string input;
        std::string says;
    };
    for (const Case& c :
         {Case{"0.5,abc\n", "'abc' is not a number"}, Case{"1,2,3\n", "expected 2 values, got 3"},
          Case{"0.1,0.2\n0.3,inf\n", "not finite"},
          Case{"0.1,0.2\n", "input ended after 1 of 5 evaluations"}}) {
        SCOPED_TRACE(c.input);
        const ProcessResult r = RunStdio(argv, c.input);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(Lines(r.err), 1u) << r.err;
        EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
        EXPECT_GE(Lines(r.out), 1u);  // the points asked before the bad line
    }
    // Missing --dims is a usage error, not a crash.
    const ProcessResult usage = RunStdio({kBench, "--problem", "stdio", "--objectives", "2"}, "");
    EXPECT_EQ(usage.exit_code, 2);
    EXPECT_NE(usage.err.find("--dims"), std::string::npos);
}

TEST(AskTellTest, WithoutEvalsTheRunEndsWithItsInput) {
    // Three answers, a failed evaluation (nan) among them, then the end of input.
    const ProcessResult r = RunStdio(StdioArgs(3, 2, 0, 0, 1), "0.1,0.9\nnan,nan\n0.4,0.4\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Lines(r.out), 4u);  // three answered, and the one nobody answered
    EXPECT_TRUE(r.err.empty()) << r.err;
}

}  // namespace
}  // namespace hilnas::optimizer::bench
