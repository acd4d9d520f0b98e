// hilnas-bench-optimizer: runs the optimisers on benchmark problems, against
// Optuna, or on any black box over stdio.
//
//   hilnas-bench-optimizer --problem dtlz2|zdt1|zdt3|nas-proxy --algorithm mobo|nsga2|random
//       [--evals N] [--seed S] [--batch B] [--csv FILE] [--set name=value ...]
//     One run: writes every evaluated point (one row per evaluation) and
//     prints the normalised hypervolume after 20, 50 and 100 evaluations.
//   hilnas-bench-optimizer --problem stdio --dims D --objectives M [--constraints C]
//       [--evals N] [--seed S] [--algorithm mobo] [--batch B]
//     Ask/tell for any black box (bench/ask_tell.h): each suggested point is
//     one CSV line on stdout (flushed); the answer is one CSV line on stdin,
//     M objective values (minimised; nan for a failed evaluation) then C
//     measured constraints (each holds when <= 0). With --batch B, B points
//     are printed before B answers are read. Without --evals it runs until
//     stdin ends. The same seed gives exactly the run of the built-in
//     problem. Bad input: one line on stderr, exit status 2.
//   hilnas-bench-optimizer --benchmark [--seeds 5] [--evals 100] [--jobs 1]
//       [--problems dtlz2,zdt1,zdt3,nas-proxy] [--peers motpe,nsga2|none]
//       [--require-peer] [--python PATH] [--peer-script FILE] [--batch-compare 4]
//     Every problem x optimiser x seed, Optuna's MOTPE and NSGA-II included
//     (bench/optuna_peer.py, run as a child on the same problems and seeds):
//     median hypervolumes at 50 and 100 evaluations, mobo's ratio to the
//     better Optuna sampler, mobo with batches of 4 against mobo sequential,
//     and mobo's suggest latency with 1,000 observed DTLZ2 trials. Without
//     Optuna it says so in one line and prints the rest (exit status 3 with
//     --require-peer).
//   hilnas-bench-optimizer --latency [--problem P]
//     mobo's suggest time with 100, 500 and 1000 observed trials, against
//     random's suggest time measured in the same run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ask_tell.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/optimizer/optimizer.h"
#include "problems.h"
#include "runner.h"

#ifndef HILNAS_OPTIMIZER_SOURCE_DIR
#define HILNAS_OPTIMIZER_SOURCE_DIR "."
#endif

namespace {

using hilnas::optimizer::Observation;
using hilnas::optimizer::Rng;
using hilnas::optimizer::Vector;
namespace opt = hilnas::optimizer;
namespace bench = hilnas::optimizer::bench;

constexpr size_t kSingleCheckpoints[] = {20, 50, 100};
constexpr int kPeerMissing = 3;  // exit status: --require-peer without Optuna

struct Args {
    std::string problem = "zdt1";
    std::string algorithm = "mobo";
    std::string csv;
    std::string problems = "dtlz2,zdt1,zdt3,nas-proxy";
    std::string peers = "motpe,nsga2";
    std::string python;
    std::string peer_script = std::string(HILNAS_OPTIMIZER_SOURCE_DIR) + "/bench/optuna_peer.py";
    int evals = 100;
    bool evals_given = false;
    int seed = 0;
    int seeds = 5;
    int batch = 1;
    int batch_compare = 4;
    int jobs = 1;
    int dims = 0;
    int objectives = 0;
    int constraints = 0;
    bool benchmark = false;
    bool latency = false;
    bool require_peer = false;
    std::vector<std::string> overrides;  // --set name=value
};

// A mistake in the command line: reported with the usage.
struct UsageError : hilnas::InvalidArgument {
    using hilnas::InvalidArgument::InvalidArgument;
};

void Usage() {
    std::cerr << "usage: hilnas-bench-optimizer --problem dtlz2|zdt1|zdt3|nas-proxy "
                 "--algorithm mobo|nsga2|random [--evals N] [--seed S] [--batch B] [--csv FILE] "
                 "[--set name=value]\n"
                 "       hilnas-bench-optimizer --problem stdio --dims D --objectives M "
                 "[--constraints C] [--evals N] [--seed S] [--algorithm A] [--batch B]\n"
                 "       hilnas-bench-optimizer --benchmark [--seeds N] [--evals N] [--jobs J] "
                 "[--problems a,b] [--peers motpe,nsga2|none] [--require-peer] [--python PATH] "
                 "[--peer-script FILE] [--batch-compare Q]\n"
                 "       hilnas-bench-optimizer --latency [--problem P]\n";
}

int ToInt(const std::string& flag, const std::string& text) {
    try {
        size_t used = 0;
        const int v = std::stoi(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw UsageError("not an integer: '" + text + "'", flag);
}

Args Parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw UsageError("missing value", flag);
            return argv[++i];
        };
        if (flag == "--problem") {
            a.problem = value();
        } else if (flag == "--algorithm") {
            a.algorithm = value();
        } else if (flag == "--evals") {
            a.evals = ToInt(flag, value());
            a.evals_given = true;
        } else if (flag == "--seed") {
            a.seed = ToInt(flag, value());
        } else if (flag == "--seeds") {
            a.seeds = ToInt(flag, value());
        } else if (flag == "--batch") {
            a.batch = ToInt(flag, value());
        } else if (flag == "--batch-compare") {
            a.batch_compare = ToInt(flag, value());
        } else if (flag == "--jobs") {
            a.jobs = ToInt(flag, value());
        } else if (flag == "--dims") {
            a.dims = ToInt(flag, value());
        } else if (flag == "--objectives") {
            a.objectives = ToInt(flag, value());
        } else if (flag == "--constraints") {
            a.constraints = ToInt(flag, value());
        } else if (flag == "--csv") {
            a.csv = value();
        } else if (flag == "--problems") {
            a.problems = value();
        } else if (flag == "--peers") {
            a.peers = value();
        } else if (flag == "--python") {
            a.python = value();
        } else if (flag == "--peer-script") {
            a.peer_script = value();
        } else if (flag == "--set") {
            a.overrides.push_back(value());
        } else if (flag == "--benchmark") {
            a.benchmark = true;
        } else if (flag == "--require-peer") {
            a.require_peer = true;
        } else if (flag == "--latency") {
            a.latency = true;
        } else if (flag == "--help" || flag == "-h") {
            Usage();
            std::exit(0);
        } else {
            throw UsageError("unknown flag", flag);
        }
    }
    if (a.evals < 1 || a.batch < 1 || a.seeds < 1 || a.jobs < 1 || a.batch_compare < 0 ||
        a.constraints < 0) {
        throw UsageError(
            "--evals, --batch, --seeds and --jobs must be >= 1, --batch-compare and "
            "--constraints >= 0");
    }
    try {
        bench::BenchSettings(0, a.overrides);  // names and values checked up front
    } catch (const hilnas::InvalidArgument& e) {
        throw UsageError(e.what(), "--set");
    }
    return a;
}

std::vector<std::string> Split(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    for (std::string p; std::getline(ss, p, ',');) {
        if (!p.empty()) out.push_back(p);
    }
    return out;
}

double Median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void WriteCsv(const std::string& path, const bench::Problem& problem, const std::string& algorithm,
              int seed, const bench::Run& run) {
    std::ofstream out(path);
    if (!out) throw hilnas::InvalidArgument("cannot open for writing", path);
    out << "eval,problem,algorithm,seed,round,source,parent";
    for (const std::string& name : problem.objective_names) out << ',' << name;
    for (int j = 0; j < problem.domain->dimension(); ++j) out << ",x" << j;
    out << '\n';
    out.precision(17);
    for (size_t i = 0; i < run.observed.size(); ++i) {
        out << i + 1 << ',' << problem.name << ',' << algorithm << ',' << seed << ','
            << run.round[i] << ',' << run.suggestions[i].source << ',' << run.suggestions[i].parent;
        for (double y : run.observed[i].y) out << ',' << y;
        for (double x : run.observed[i].x) out << ',' << x;
        out << '\n';
    }
}

int Single(const Args& a) {
    const bench::Problem problem = bench::MakeProblem(a.problem);
    const bench::Run run =
        bench::RunOnProblem(problem, a.algorithm, a.evals, a.batch, a.seed, a.overrides);
    if (!a.csv.empty()) WriteCsv(a.csv, problem, a.algorithm, a.seed, run);
    const std::vector<Vector> ys = bench::Objectives(run);
    std::printf("problem %s algorithm %s seed %d batch %d evaluations %zu time %.2f s\n",
                a.problem.c_str(), a.algorithm.c_str(), a.seed, a.batch, ys.size(), run.seconds);
    for (size_t c : kSingleCheckpoints) {
        if (c > ys.size()) break;
        std::printf("hypervolume after %3zu evaluations: %.6f\n", c,
                    bench::NormalizedHypervolume(problem, ys, c));
    }
    return 0;
}

// The input ended where a run without --evals may stop.
struct EndOfInput {};

int Stdio(const Args& a) {
    if (a.dims < 1 || a.objectives < 1) {
        throw UsageError("--problem stdio needs --dims D and --objectives M (both >= 1)");
    }
    const size_t m = static_cast<size_t>(a.objectives);
    const size_t c = static_cast<size_t>(a.constraints);
    auto domain = std::make_shared<opt::BoxDomain>(a.dims, a.objectives);
    const int evals = a.evals_given ? a.evals : INT_MAX;
    int answered = 0;
    auto evaluate = [&](const std::vector<Vector>& points) {
        for (const Vector& x : points) std::cout << bench::FormatCsvLine(x) << '\n';
        std::cout.flush();
        std::vector<Observation> out;
        for (const Vector& x : points) {
            std::string line;
            if (!std::getline(std::cin, line)) {
                if (!a.evals_given && out.empty()) throw EndOfInput{};
                throw hilnas::InvalidArgument(
                    a.evals_given ? "input ended after " + std::to_string(answered) + " of " +
                                        std::to_string(a.evals) + " evaluations"
                                  : "input ended in the middle of a batch, after " +
                                        std::to_string(answered) + " evaluations");
            }
            // NaN: a failed evaluation, or a constraint that was not measured.
            const Vector v = bench::ParseCsvLine(line, m + c, true);
            Observation o{x, Vector(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(m)),
                          Vector(v.begin() + static_cast<std::ptrdiff_t>(m), v.end())};
            out.push_back(std::move(o));
            ++answered;
        }
        return out;
    };
    try {
        bench::RunOptimizer(domain, a.algorithm, evals, a.batch, a.seed, a.overrides, evaluate);
    } catch (const EndOfInput&) {
    }
    return 0;
}

// The Python interpreter that imports Optuna, and Optuna's version; empty
// when none does.
std::pair<std::string, std::string> FindOptuna(const Args& a, std::string* tried) {
    std::vector<std::string> candidates;
    if (!a.python.empty()) {
        candidates.push_back(a.python);
    } else {
        candidates = {"python3", "/usr/bin/python3"};
    }
    for (const std::string& python : candidates) {
        if (!tried->empty()) *tried += ", ";
        *tried += python;
        hilnas::ProcessOptions o;
        o.argv = {python, "-c", "import optuna; print(optuna.__version__)"};
        o.timeout = std::chrono::milliseconds(60000);
        try {
            const hilnas::ProcessResult r = hilnas::RunProcess(o);
            if (r.ok()) {
                std::string version = r.out;
                while (!version.empty() && (version.back() == '\n' || version.back() == '\r'))
                    version.pop_back();
                return {python, version};
            }
        } catch (const hilnas::Error&) {
            // Not installed: try the next.
        }
    }
    return {};
}

// The figures of one column of the table: an optimiser or a peer.
struct Column {
    std::string label;
    std::string algorithm;          // ours; empty for a peer
    std::vector<std::string> argv;  // a peer's command line, without --seed etc.
    int batch = 1;
};

// Suggest latency of mobo with 1,000 observed DTLZ2 trials (3 learnt
// objectives), batch 1, and random's in the same run.
void PrintLatency(const std::vector<std::string>& overrides) {
    const bench::Problem problem = bench::MakeProblem("dtlz2");
    auto mobo = opt::MakeOptimizer("mobo", problem.domain, bench::BenchSettings(0, overrides));
    auto random = opt::MakeOptimizer("random", problem.domain, bench::BenchSettings(0, overrides));
    Rng data_rng(99);
    std::vector<Observation> observed;
    for (opt::Suggestion& s : random->Suggest(1000, {}, {}, data_rng)) {
        observed.push_back(Observation{s.x, problem.evaluate(s.x)});
    }
    auto time = [&](opt::Optimizer& o, double* cpu) {
        Rng rng(7);
        const std::clock_t c0 = std::clock();
        const auto start = std::chrono::steady_clock::now();
        o.Suggest(1, observed, {}, rng);
        *cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    double cpu_random = 0;
    double cpu_mobo = 0;
    const double t_random = time(*random, &cpu_random);
    const double t_mobo = time(*mobo, &cpu_mobo);
    std::printf(
        "suggest latency, dtlz2 with 1000 observed trials (3 learnt objectives), batch 1: "
        "mobo %.3f s wall (%.3f s cpu); random %.5f s; mobo/random %.0fx\n",
        t_mobo, cpu_mobo, t_random, t_mobo / std::max(t_random, 1e-9));
}

int Benchmark(const Args& a) {
    const std::vector<std::string> problems = Split(a.problems);
    std::vector<Column> columns = {{"mobo", "mobo", {}, 1}};
    if (a.batch_compare > 1) {
        columns.push_back(
            {"mobo-q" + std::to_string(a.batch_compare), "mobo", {}, a.batch_compare});
    }
    columns.push_back({"nsga2", "nsga2", {}, 1});
    columns.push_back({"random", "random", {}, 1});
    const std::vector<std::string> peers =
        a.peers == "none" ? std::vector<std::string>{} : Split(a.peers);
    bool peer_missing = false;
    std::string tried;
    if (!peers.empty()) {
        const auto [python, version] = FindOptuna(a, &tried);
        if (python.empty()) {
            std::printf("peers: Optuna is not importable (tried %s): hilnas figures only\n",
                        tried.c_str());
            peer_missing = true;
        } else {
            std::printf("peers: Optuna %s via %s %s\n", version.c_str(), python.c_str(),
                        a.peer_script.c_str());
            for (const std::string& p : peers) {
                if (p != "motpe" && p != "nsga2") throw UsageError("unknown peer '" + p + "'");
                columns.push_back({"optuna-" + p, "", {python, a.peer_script, "--sampler", p}, 1});
            }
        }
    }
    std::fflush(stdout);

    // Every (problem, column, seed) is a task; --jobs of them run at once.
    struct Task {
        size_t problem, column;
        int seed;
        std::vector<Vector> ys;
        double seconds = 0;
        std::string error;
    };
    std::vector<bench::Problem> made;
    for (const std::string& name : problems) made.push_back(bench::MakeProblem(name));
    std::vector<Task> tasks;
    for (size_t p = 0; p < made.size(); ++p) {
        for (size_t c = 0; c < columns.size(); ++c) {
            // Optuna gets the box problems; nas-proxy's space is ours alone.
            if (!columns[c].argv.empty() && made[p].name == "nas-proxy") continue;
            for (int seed = 0; seed < a.seeds; ++seed) tasks.push_back(Task{p, c, seed, {}, 0, {}});
        }
    }
    std::atomic<size_t> next{0};
    std::mutex progress_mutex;
    size_t done = 0;
    auto worker = [&]() {
        for (size_t t = next++; t < tasks.size(); t = next++) {
            Task& task = tasks[t];
            const bench::Problem& problem = made[task.problem];
            const Column& col = columns[task.column];
            try {
                bench::Run run;
                if (col.argv.empty()) {
                    run = bench::RunOnProblem(problem, col.algorithm, a.evals, col.batch, task.seed,
                                              a.overrides);
                } else {
                    std::vector<std::string> argv = col.argv;
                    for (const std::string& s :
                         {std::string("--dims"), std::to_string(problem.domain->dimension()),
                          std::string("--objectives"),
                          std::to_string(problem.domain->num_objectives()), std::string("--evals"),
                          std::to_string(a.evals), std::string("--seed"),
                          std::to_string(task.seed)}) {
                        argv.push_back(s);
                    }
                    run = bench::RunPeer(problem, argv, a.evals);
                }
                task.ys = bench::Objectives(run);
                task.seconds = run.seconds;
            } catch (const std::exception& e) {
                task.error = e.what();
            }
            // Progress on stderr: the run, its final hypervolume, its time.
            const std::lock_guard<std::mutex> lock(progress_mutex);
            std::fprintf(stderr, "[%zu/%zu] %s %s seed %d: %s\n", ++done, tasks.size(),
                         problem.name.c_str(), col.label.c_str(), task.seed,
                         task.error.empty() ? ("hypervolume " +
                                               std::to_string(bench::NormalizedHypervolume(
                                                   problem, task.ys, task.ys.size())) +
                                               " in " + std::to_string(task.seconds) + " s")
                                                  .c_str()
                                            : task.error.c_str());
        }
    };
    std::vector<std::thread> threads;
    for (int j = 0; j < a.jobs; ++j) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
    for (const Task& t : tasks) {
        if (!t.error.empty()) {
            throw hilnas::Unavailable(columns[t.column].label + " on " + made[t.problem].name +
                                      " seed " + std::to_string(t.seed) + ": " + t.error);
        }
    }

    std::vector<size_t> checkpoints;
    for (size_t c : {size_t{50}, size_t{100}}) {
        if (c <= static_cast<size_t>(a.evals)) checkpoints.push_back(c);
    }
    if (checkpoints.empty() || checkpoints.back() != static_cast<size_t>(a.evals))
        checkpoints.push_back(static_cast<size_t>(a.evals));
    std::printf(
        "median hypervolume of %d seeds; objectives normalised by each problem's bounds, "
        "reference point 1.1 in each (bench/problems.h)\n",
        a.seeds);
    std::printf("%-10s %5s", "problem", "evals");
    for (const Column& c : columns) std::printf(" %13s", c.label.c_str());
    const bool have_peers = columns.back().algorithm.empty();
    if (have_peers) std::printf(" %16s", "mobo/best-optuna");
    if (a.batch_compare > 1)
        std::printf(" %9s", ("q" + std::to_string(a.batch_compare) + "/q1").c_str());
    std::printf(" %12s %12s\n", "mobo/nsga2", "mobo/random");
    std::map<std::string, std::vector<double>> seconds;
    for (size_t p = 0; p < made.size(); ++p) {
        for (size_t cp : checkpoints) {
            std::vector<double> med(columns.size(), NAN);
            for (size_t c = 0; c < columns.size(); ++c) {
                std::vector<double> hv;
                for (const Task& t : tasks) {
                    if (t.problem == p && t.column == c)
                        hv.push_back(bench::NormalizedHypervolume(made[p], t.ys, cp));
                }
                med[c] = Median(hv);
            }
            std::printf("%-10s %5zu", made[p].name.c_str(), cp);
            for (double v : med) {
                if (std::isnan(v)) {
                    std::printf(" %13s", "-");
                } else {
                    std::printf(" %13.4f", v);
                }
            }
            auto ratio = [](double num, double den, int width) {
                if (std::isnan(num) || std::isnan(den) || den <= 0) {
                    std::printf(" %*s", width, "n/a");
                } else {
                    std::printf(" %*.3fx", width - 1, num / den);
                }
            };
            if (have_peers) {
                double best = NAN;
                for (size_t c = 0; c < columns.size(); ++c) {
                    if (columns[c].algorithm.empty() && !std::isnan(med[c]))
                        best = std::isnan(best) ? med[c] : std::max(best, med[c]);
                }
                ratio(med[0], best, 16);
            }
            if (a.batch_compare > 1) ratio(med[1], med[0], 9);
            const size_t nsga2 = a.batch_compare > 1 ? 2 : 1;
            ratio(med[0], med[nsga2], 12);
            ratio(med[0], med[nsga2 + 1], 12);
            std::printf("\n");
        }
    }
    std::printf("median wall time per run (s, %d job%s at once):", a.jobs, a.jobs > 1 ? "s" : "");
    for (size_t c = 0; c < columns.size(); ++c) {
        std::vector<double> s;
        for (const Task& t : tasks) {
            if (t.column == c) s.push_back(t.seconds);
        }
        std::printf(" %s %.2f", columns[c].label.c_str(), Median(s));
    }
    std::printf("\n");
    PrintLatency(a.overrides);
    if (peer_missing && a.require_peer) return kPeerMissing;
    return 0;
}

int Latency(const Args& a) {
    const bench::Problem problem = bench::MakeProblem(a.problem);
    auto mobo = opt::MakeOptimizer("mobo", problem.domain, bench::BenchSettings(0, a.overrides));
    auto random = opt::MakeOptimizer("random", problem.domain, bench::BenchSettings(0, {}));
    Rng data_rng(99);
    std::vector<Observation> all;
    for (opt::Suggestion& sug : random->Suggest(1000, {}, {}, data_rng)) {
        all.push_back(Observation{sug.x, problem.evaluate(sug.x)});
    }
    std::printf("suggest latency, problem %s (d = %d), batch 1 and batch 4 with 4 pending\n",
                a.problem.c_str(), problem.domain->dimension());
    for (size_t n : {size_t{100}, size_t{500}, size_t{1000}}) {
        std::vector<Observation> observed(all.begin(),
                                          all.begin() + static_cast<std::ptrdiff_t>(n));
        std::vector<Vector> pending;
        Rng prng(5);
        for (const opt::Suggestion& s : random->Suggest(4, observed, {}, prng)) {
            pending.push_back(s.x);
        }
        // Wall time, and the process's CPU time (single-threaded: what the wall
        // time would be on an idle machine).
        double cpu = 0;
        auto time = [&](opt::Optimizer& o, int batch, const std::vector<Vector>& p) {
            Rng rng(7);
            const std::clock_t c0 = std::clock();
            const auto start = std::chrono::steady_clock::now();
            o.Suggest(batch, observed, p, rng);
            cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        const double t_random = time(*random, 1, {});
        const double t1 = time(*mobo, 1, {});
        const double c1 = cpu;
        const double t4 = time(*mobo, 4, pending);
        const double c4 = cpu;
        std::printf(
            "observed %4zu: mobo batch 1 %.3f s wall (%.3f s cpu), batch 4 + 4 pending "
            "%.3f s wall (%.3f s cpu); random %.5f s; mobo/random %.0fx\n",
            n, t1, c1, t4, c4, t_random, t1 / std::max(t_random, 1e-9));
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // A peer or a black box that goes away must not kill us mid-write: the
    // next read sees the end of its output instead.
    std::signal(SIGPIPE, SIG_IGN);
    Args a;
    try {
        a = Parse(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "hilnas-bench-optimizer: " << e.what() << "\n";
        Usage();
        return 2;
    }
    try {
        if (a.benchmark) return Benchmark(a);
        if (a.latency) return Latency(a);
        if (a.problem == "stdio") return Stdio(a);
        return Single(a);
    } catch (const UsageError& e) {
        std::cerr << "hilnas-bench-optimizer: " << e.what() << "\n";
        Usage();
        return 2;
    } catch (const std::exception& e) {
        // One line: a black box on the other end of --problem stdio reads it.
        std::cerr << "hilnas-bench-optimizer: " << e.what() << "\n";
        return 2;
    }
}
