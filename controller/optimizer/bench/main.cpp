// hilnas-bench-optimizer: runs an optimiser on a benchmark problem.
//
//   hilnas-bench-optimizer --problem dtlz2|zdt1|nas-proxy --algorithm mobo|nsga2|random
//       --evals N --seed S [--batch B] [--csv FILE]
//     Writes every evaluated point (one row per evaluation) and prints the
//     normalised hypervolume after 20, 50 and 100 evaluations.
//   hilnas-bench-optimizer --benchmark [--seeds 5] [--evals 100] [--batch B]
//       [--problems zdt1,dtlz2,nas-proxy]
//     Every problem x algorithm x seed; prints median hypervolumes at 20, 50
//     and 100 evaluations and mobo's ratios to nsga2 and random.
//   hilnas-bench-optimizer --latency [--problem P]
//     mobo's suggest time with 100, 500 and 1000 observed trials, against
//     random's suggest time and mobo at 100 measured in the same run.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hilnas/common/errors.h"
#include "hilnas/optimizer/optimizer.h"
#include "problems.h"

namespace {

using hilnas::optimizer::Observation;
using hilnas::optimizer::Rng;
using hilnas::optimizer::Vector;
namespace opt = hilnas::optimizer;
namespace bench = hilnas::optimizer::bench;

constexpr size_t kCheckpoints[] = {20, 50, 100};

struct Args {
    std::string problem = "zdt1";
    std::string algorithm = "mobo";
    std::string csv;
    std::string problems = "zdt1,dtlz2,nas-proxy";
    int evals = 100;
    int seed = 0;
    int seeds = 5;
    int batch = 1;
    bool benchmark = false;
    bool latency = false;
};

void Usage() {
    std::cerr << "usage: hilnas-bench-optimizer --problem dtlz2|zdt1|nas-proxy "
                 "--algorithm mobo|nsga2|random --evals N --seed S [--batch B] [--csv FILE]\n"
                 "       hilnas-bench-optimizer --benchmark [--seeds N] [--evals N] [--batch B] "
                 "[--problems a,b,c]\n"
                 "       hilnas-bench-optimizer --latency [--problem P]\n";
}

Args Parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw hilnas::InvalidArgument("missing value", flag);
            return argv[++i];
        };
        if (flag == "--problem") {
            a.problem = value();
        } else if (flag == "--algorithm") {
            a.algorithm = value();
        } else if (flag == "--evals") {
            a.evals = std::stoi(value());
        } else if (flag == "--seed") {
            a.seed = std::stoi(value());
        } else if (flag == "--seeds") {
            a.seeds = std::stoi(value());
        } else if (flag == "--batch") {
            a.batch = std::stoi(value());
        } else if (flag == "--csv") {
            a.csv = value();
        } else if (flag == "--problems") {
            a.problems = value();
        } else if (flag == "--benchmark") {
            a.benchmark = true;
        } else if (flag == "--latency") {
            a.latency = true;
        } else {
            throw hilnas::InvalidArgument("unknown flag", flag);
        }
    }
    if (a.evals < 1 || a.batch < 1 || a.seeds < 1) {
        throw hilnas::InvalidArgument("--evals, --batch and --seeds must be >= 1");
    }
    return a;
}

struct Run {
    std::vector<Observation> observed;
    std::vector<opt::Suggestion> suggestions;
    std::vector<int> round;
};

Run RunOne(const bench::Problem& problem, const std::string& algorithm, int evals, int seed,
           int batch) {
    opt::OptimizerSettings settings;
    settings.seed = static_cast<uint64_t>(seed);
    auto optimizer = opt::MakeOptimizer(algorithm, problem.domain, settings);
    Rng rng(static_cast<uint64_t>(seed) * 7919 + 17);
    Run run;
    int round = 0;
    while (static_cast<int>(run.observed.size()) < evals) {
        const int want = std::min(batch, evals - static_cast<int>(run.observed.size()));
        std::vector<opt::Suggestion> s = optimizer->Suggest(want, run.observed, {}, rng);
        if (s.empty()) break;
        for (opt::Suggestion& sug : s) {
            run.observed.push_back(Observation{sug.x, problem.evaluate(sug.x)});
            run.round.push_back(round);
            run.suggestions.push_back(std::move(sug));
        }
        ++round;
    }
    return run;
}

void WriteCsv(const std::string& path, const bench::Problem& problem, const std::string& algorithm,
              int seed, const Run& run) {
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

std::vector<Vector> Ys(const Run& run) {
    std::vector<Vector> ys;
    for (const Observation& o : run.observed) ys.push_back(o.y);
    return ys;
}

int Single(const Args& a) {
    const bench::Problem problem = bench::MakeProblem(a.problem);
    const auto start = std::chrono::steady_clock::now();
    const Run run = RunOne(problem, a.algorithm, a.evals, a.seed, a.batch);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!a.csv.empty()) WriteCsv(a.csv, problem, a.algorithm, a.seed, run);
    const std::vector<Vector> ys = Ys(run);
    std::printf("problem %s algorithm %s seed %d batch %d evaluations %zu time %.2f s\n",
                a.problem.c_str(), a.algorithm.c_str(), a.seed, a.batch, ys.size(), seconds);
    for (size_t c : kCheckpoints) {
        if (c > ys.size()) break;
        std::printf("hypervolume after %3zu evaluations: %.6f\n", c,
                    bench::NormalizedHypervolume(problem, ys, c));
    }
    return 0;
}

double Median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int Benchmark(const Args& a) {
    std::vector<std::string> problems;
    std::stringstream ss(a.problems);
    for (std::string p; std::getline(ss, p, ',');) problems.push_back(p);
    const std::vector<std::string> algorithms = {"mobo", "nsga2", "random"};
    std::printf("median normalised hypervolume over %d seeds (batch %d, reference 1.1)\n", a.seeds,
                a.batch);
    std::printf("%-10s %-7s %10s %10s %10s %9s\n", "problem", "algo", "hv@20", "hv@50", "hv@100",
                "time/run");
    for (const std::string& name : problems) {
        const bench::Problem problem = bench::MakeProblem(name);
        std::map<std::string, std::vector<double>> medians;
        for (const std::string& algorithm : algorithms) {
            std::vector<std::vector<double>> hv(std::size(kCheckpoints));
            double seconds = 0;
            for (int seed = 0; seed < a.seeds; ++seed) {
                const auto start = std::chrono::steady_clock::now();
                const Run run = RunOne(problem, algorithm, a.evals, seed, a.batch);
                seconds +=
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                const std::vector<Vector> ys = Ys(run);
                for (size_t c = 0; c < std::size(kCheckpoints); ++c) {
                    hv[c].push_back(bench::NormalizedHypervolume(problem, ys, kCheckpoints[c]));
                }
            }
            std::printf("%-10s %-7s", name.c_str(), algorithm.c_str());
            for (size_t c = 0; c < std::size(kCheckpoints); ++c) {
                medians[algorithm].push_back(Median(hv[c]));
                std::printf(" %10.4f", medians[algorithm].back());
            }
            std::printf(" %8.2fs\n", seconds / a.seeds);
            std::fflush(stdout);
        }
        for (const char* base : {"nsga2", "random"}) {
            std::printf("%-10s mobo/%-6s", name.c_str(), base);
            for (size_t c = 0; c < std::size(kCheckpoints); ++c) {
                const double b = medians[base][c];
                if (b > 0) {
                    std::printf(" %9.3fx", medians["mobo"][c] / b);
                } else {
                    std::printf(" %10s", "n/a");  // the baseline has no hypervolume yet
                }
            }
            std::printf("\n");
        }
    }
    return 0;
}

int Latency(const Args& a) {
    const bench::Problem problem = bench::MakeProblem(a.problem);
    opt::OptimizerSettings settings;
    auto mobo = opt::MakeOptimizer("mobo", problem.domain, settings);
    auto random = opt::MakeOptimizer("random", problem.domain, settings);
    Rng data_rng(99);
    std::vector<Observation> all;
    {
        std::vector<opt::Suggestion> s = random->Suggest(1000, {}, {}, data_rng);
        for (opt::Suggestion& sug : s) all.push_back(Observation{sug.x, problem.evaluate(sug.x)});
    }
    std::printf("suggest latency, problem %s (d = %d), batch 1 and batch 4 with 4 pending\n",
                a.problem.c_str(), problem.domain->dimension());
    double base = 0;
    for (size_t n : {size_t{100}, size_t{500}, size_t{1000}}) {
        std::vector<Observation> observed(all.begin(),
                                          all.begin() + static_cast<std::ptrdiff_t>(n));
        std::vector<Vector> pending;
        for (size_t i = n; i < n + 4 && i < all.size(); ++i) pending.push_back(all[i].x);
        if (n == 1000) {
            pending.clear();
            Rng prng(5);
            for (const opt::Suggestion& s : random->Suggest(4, observed, {}, prng)) {
                pending.push_back(s.x);
            }
        }
        // Wall time, and the process's CPU time (single-threaded: what the wall
        // time would be on an idle machine).
        double cpu = 0;
        auto time = [&](opt::Optimizer& o, int batch, const std::vector<Vector>& p) {
            Rng rng(7);
            const std::clock_t c0 = std::clock();
            const auto start = std::chrono::steady_clock::now();
            const auto s = o.Suggest(batch, observed, p, rng);
            cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        const double t_random = time(*random, 1, {});
        const double t1 = time(*mobo, 1, {});
        const double c1 = cpu;
        const double t4 = time(*mobo, 4, pending);
        const double c4 = cpu;
        if (n == 100) base = t1;
        std::printf(
            "observed %4zu: mobo batch 1 %.3f s wall (%.3f s cpu), batch 4 + 4 pending "
            "%.3f s wall (%.3f s cpu); random %.5f s; mobo vs mobo@100 %.2fx, "
            "vs random %.0fx\n",
            n, t1, c1, t4, c4, t_random, t1 / base, t1 / t_random);
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Args a = Parse(argc, argv);
        if (a.benchmark) return Benchmark(a);
        if (a.latency) return Latency(a);
        return Single(a);
    } catch (const std::exception& e) {
        std::cerr << "hilnas-bench-optimizer: " << e.what() << "\n";
        Usage();
        return 2;
    }
}
