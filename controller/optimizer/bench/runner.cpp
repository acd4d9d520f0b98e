#include "runner.h"

#include <chrono>
#include <cstdlib>

#include "ask_tell.h"
#include "hilnas/common/errors.h"

namespace hilnas::optimizer::bench {

void ApplyOverride(OptimizerSettings& s, const std::string& assignment) {
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos) throw InvalidArgument("expected name=value", assignment);
    const std::string name = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw InvalidArgument("not a number", assignment);
    const int i = static_cast<int>(v);
    if (name == "warmup") {
        s.warmup = i;
    } else if (name == "kappa") {
        s.ucb_kappa = v;
    } else if (name == "chebyshev_per_dimension") {
        s.chebyshev_per_dimension = v;
    } else if (name == "rho") {
        s.chebyshev_rho = v;
    } else if (name == "random_candidates") {
        s.random_candidates = i;
    } else if (name == "local_candidates") {
        s.local_candidates = i;
    } else if (name == "max_gp_points") {
        s.max_gp_points = i;
    } else if (name == "scalarisation") {
        s.scalarisation = i == 3   ? Scalarisation::kStaged
                          : i == 2 ? Scalarisation::kHypervolumeImprovement
                          : i == 1 ? Scalarisation::kHypervolume
                                   : Scalarisation::kChebyshev;
    } else if (name == "thompson") {
        s.acquisition = i ? Acquisition::kThompson : Acquisition::kUcb;
    } else if (name == "restarts") {
        s.fit.restarts = i;
    } else if (name == "iterations") {
        s.fit.iterations = i;
    } else if (name == "fit_points") {
        s.fit.max_points = i;
    } else if (name == "priors") {
        s.fit.use_priors = i != 0;
    } else {
        throw InvalidArgument("unknown setting", name);
    }
}

OptimizerSettings BenchSettings(int seed, const std::vector<std::string>& overrides) {
    OptimizerSettings settings;
    settings.seed = static_cast<uint64_t>(seed);
    for (const std::string& o : overrides) ApplyOverride(settings, o);
    return settings;
}

Rng BenchRng(int seed) { return Rng(static_cast<uint64_t>(seed) * 7919 + 17); }

Run RunOptimizer(std::shared_ptr<const Domain> domain, const std::string& algorithm, int evals,
                 int batch, int seed, const std::vector<std::string>& overrides,
                 const Evaluator& evaluate) {
    const auto start = std::chrono::steady_clock::now();
    auto optimizer = MakeOptimizer(algorithm, std::move(domain), BenchSettings(seed, overrides));
    Rng rng = BenchRng(seed);
    Run run;
    int round = 0;
    while (static_cast<int>(run.observed.size()) < evals) {
        const int want = std::min(batch, evals - static_cast<int>(run.observed.size()));
        std::vector<Suggestion> s = optimizer->Suggest(want, run.observed, {}, rng);
        if (s.empty()) break;
        std::vector<Vector> points;
        for (const Suggestion& sug : s) points.push_back(sug.x);
        std::vector<Observation> answers = evaluate(points);
        for (size_t i = 0; i < s.size(); ++i) {
            run.observed.push_back(std::move(answers[i]));
            run.round.push_back(round);
            run.suggestions.push_back(std::move(s[i]));
        }
        ++round;
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

Run RunOnProblem(const Problem& problem, const std::string& algorithm, int evals, int batch,
                 int seed, const std::vector<std::string>& overrides) {
    return RunOptimizer(problem.domain, algorithm, evals, batch, seed, overrides,
                        [&](const std::vector<Vector>& points) {
                            std::vector<Observation> out;
                            for (const Vector& x : points) {
                                out.push_back(Observation{x, problem.evaluate(x)});
                            }
                            return out;
                        });
}

Run RunPeer(const Problem& problem, const std::vector<std::string>& argv, int evals) {
    const auto start = std::chrono::steady_clock::now();
    AskTellPeer peer(argv);
    const size_t d = static_cast<size_t>(problem.domain->dimension());
    Run run;
    for (int i = 0; i < evals; ++i) {
        std::optional<Vector> u = peer.Ask(d);
        if (!u) {
            throw Unavailable("the peer " + argv[0] + " ended after " + std::to_string(i) + " of " +
                              std::to_string(evals) + " evaluations");
        }
        const Vector x = problem.domain->Canonicalize(*u);
        Vector y = problem.evaluate(x);
        peer.Tell(y);
        run.observed.push_back(Observation{x, std::move(y)});
        run.round.push_back(i);
        run.suggestions.push_back(Suggestion{x, -1, "peer", "", {}});
    }
    const int status = peer.Finish();
    if (status != 0) throw Unavailable("peer exited with status " + std::to_string(status));
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return run;
}

std::vector<Vector> Objectives(const Run& run) {
    std::vector<Vector> ys;
    for (const Observation& o : run.observed) ys.push_back(o.y);
    return ys;
}

}  // namespace hilnas::optimizer::bench
