#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "acquisition.h"
#include "algorithms.h"
#include "hilnas/optimizer/pareto.h"
#include "hilnas/optimizer/quasi_random.h"
#include "parallel.h"
#include "search_util.h"

namespace hilnas::optimizer::internal {
namespace {

// Weights are pulled this far towards equal weights: directions near an axis
// ask for a degenerate extreme of the front (one objective at its best, the
// others anywhere), which the models find easy to promise and which is worth
// little (DTLZ2's f1 = f2 = 0 edge at any distance from the front).
constexpr double kWeightShrink = 1.0 / 3.0;

// The local search of the acquisition, per suggestion: moves around the best
// observations under this suggestion's weights, then rounds of moves from the
// best candidates, with a step that grows on success and halves on failure.
constexpr int kIncumbents = 3;
constexpr int kIncumbentMoves = 64;
constexpr double kIncumbentSteps[] = {0.02, 0.05, 0.1, 0.2};
constexpr int kStarts = 5;
constexpr int kRounds = 12;
constexpr int kMovesPerRound = 12;
constexpr double kFirstStep = 0.05;
constexpr double kLargestStep = 0.3;
// A share of the moves also puts one to three coordinates on their nearer
// bound: faces of the cube are reachable on purpose (ZDT's optimum lies on
// one), not by the accident of clamping.
constexpr double kFaceMoveProbability = 0.1;

struct Candidate {
    Vector x;
    Vector input;     // x and the domain's features: what the GPs see
    Vector known;     // per objective; NaN where learnt
    int parent = -1;  // index into `observed` (morphisms only)
    std::string source;
    std::string operation;
    std::any detail;
};

// What the GPs say about a block of candidates.
struct Posterior {
    std::vector<Vector> objective_mean;     // per objective GP
    std::vector<Vector> objective_explore;  // the variance the optimism uses
    std::vector<Vector> constraint_mean;    // per constraint GP
    std::vector<Vector> constraint_variance;
};

class Mobo : public Optimizer {
  public:
    Mobo(std::shared_ptr<const Domain> domain, const OptimizerSettings& settings)
        : domain_(std::move(domain)), settings_(settings), known_(domain_->known_objectives()) {
        // Features have one length for every point; measure it once.
        features_ = domain_
                        ->Assess(domain_->Canonicalize(
                            Vector(static_cast<size_t>(domain_->dimension()), 0.5)))
                        .features.size();
        for (int j = 0; j < domain_->num_objectives(); ++j) {
            if (!known_[static_cast<size_t>(j)]) learnt_.push_back(j);
        }
    }

    std::string_view name() const override { return "mobo"; }

    std::vector<Suggestion> Suggest(int batch, const std::vector<Observation>& observed,
                                    const std::vector<Vector>& pending, Rng& rng) override {
        std::set<Vector> taken = TakenPoints(observed, pending);
        const int m = domain_->num_objectives();
        const Valid valid = ValidObservations(observed, m);
        const int n = static_cast<int>(valid.x.size());
        // The warm-up counts every evaluation, failed and infeasible ones
        // too (they teach the constraint models); the objective models need
        // at least two with figures.
        if (static_cast<int>(observed.size()) < settings_.warmup || n < 2) {
            return Warmup(*domain_, settings_, observed.size() + pending.size(), batch, taken, rng);
        }

        // Models: one GP per learnt objective and one per measured constraint;
        // pending trials enter as fantasies.
        const std::vector<int> rows = ConditioningSet(valid, rng);
        Matrix x(static_cast<int>(rows.size()), InputSize());
        for (size_t i = 0; i < rows.size(); ++i) {
            const Vector xi = Input(valid.x[static_cast<size_t>(rows[i])]);
            std::copy(xi.begin(), xi.end(), x.row(static_cast<int>(i)));
        }
        std::vector<Vector> targets;
        for (int j : learnt_) {
            Vector& y = targets.emplace_back();
            for (int r : rows) y.push_back(valid.y[static_cast<size_t>(r)][static_cast<size_t>(j)]);
        }
        std::vector<GaussianProcess> objective_gps =
            targets.empty() ? std::vector<GaussianProcess>{}
                            : GaussianProcess::FitAll(x, targets, settings_.fit, rng);
        std::vector<GaussianProcess> constraint_gps = FitConstraints(observed, rng);
        for (const Vector& p : pending) {
            const Vector input = Input(p);
            for (GaussianProcess& gp : objective_gps) gp.AddFantasy(input);
            for (GaussianProcess& gp : constraint_gps) gp.AddFantasy(input);
        }

        // Normalisation by the observed ranges; the front and the reference
        // point from the observations that kept every constraint.
        const ObjectiveBounds bounds = BoundsOf(valid.y);
        Scalariser scalariser;
        scalariser.kind = settings_.scalarisation;
        scalariser.rho = settings_.chebyshev_rho;
        scalariser.ideal = bounds.ideal;
        scalariser.range.resize(static_cast<size_t>(m));
        for (int j = 0; j < m; ++j) {
            const size_t uj = static_cast<size_t>(j);
            const double r = bounds.nadir[uj] - bounds.ideal[uj];
            scalariser.range[uj] = r > 0 ? r : 1.0;
        }
        std::vector<int> feasible_rows;
        for (int i = 0; i < n; ++i) {
            if (KeptConstraints(observed[static_cast<size_t>(valid.index[static_cast<size_t>(i)])]))
                feasible_rows.push_back(i);
        }
        if (feasible_rows.empty()) {
            feasible_rows.resize(static_cast<size_t>(n));
            std::iota(feasible_rows.begin(), feasible_rows.end(), 0);
        }
        std::vector<Vector> y_feasible;
        for (int i : feasible_rows) y_feasible.push_back(valid.y[static_cast<size_t>(i)]);
        const std::vector<Vector> z_feasible =
            Normalize(y_feasible, ObjectiveBounds{bounds.ideal, bounds.nadir});
        scalariser.reference = ReferencePoint(z_feasible);
        if (scalariser.kind == Scalarisation::kHypervolumeImprovement) {
            for (int k : NonDominatedIndices(z_feasible))
                scalariser.front.push_back(z_feasible[static_cast<size_t>(k)]);
        }

        const bool morph_phase = n >= settings_.morph_after;
        std::vector<Candidate> pool = Pool(valid, feasible_rows, morph_phase, taken, rng);
        if (pool.empty()) return Warmup(*domain_, settings_, observed.size(), batch, taken, rng);
        const Matrix px = Inputs(pool);
        std::vector<GaussianProcess::CandidateState> objective_states(objective_gps.size());
        std::vector<GaussianProcess::CandidateState> constraint_states(constraint_gps.size());
        // One suggestion under UCB needs no fantasy, so not the full posterior
        // variance either: the optimism uses the first-order part's alone
        // (about half the work on long histories).
        const bool thompson = settings_.acquisition == Acquisition::kThompson;
        const bool first_order_only = batch == 1 && !thompson && settings_.fit.additive;
        ParallelFor(objective_gps.size() + constraint_gps.size(), [&](size_t g) {
            if (g < objective_gps.size()) {
                objective_states[g] = first_order_only ? objective_gps[g].FirstOrderCandidates(px)
                                                       : objective_gps[g].Candidates(px);
            } else {
                const size_t c = g - objective_gps.size();
                constraint_states[c] = constraint_gps[c].Candidates(px);
            }
        });

        std::vector<char> used(pool.size(), 0);
        std::set<Vector> refined_picks;
        std::vector<Suggestion> out;
        for (int b = 0; b < batch; ++b) {
            if (settings_.scalarisation == Scalarisation::kStaged) scalariser.kind = Staged(n, rng);
            scalariser.weights = SampleWeights(m, scalariser.kind, rng);
            for (double& w : scalariser.weights) {
                w = (1.0 - kWeightShrink) * w + kWeightShrink / m;
            }
            scalariser.baseline = Baseline(y_feasible, scalariser);

            // The pool, scored from its incrementally updated states.
            Posterior post;
            for (const auto& s : objective_states) {
                post.objective_mean.push_back(s.mean);
                post.objective_explore.push_back(
                    ExploreVariance(s.variance, s.first_order_variance));
            }
            for (const auto& s : constraint_states) {
                post.constraint_mean.push_back(s.mean);
                post.constraint_variance.push_back(s.variance);
            }
            Vector values = OptimisticValues(pool, post);
            Vector scores = Scores(values, post, scalariser);
            for (size_t a = 0; a < pool.size(); ++a) {
                // Picked already, or equal to an earlier refined pick.
                if (used[a] || (!refined_picks.empty() && refined_picks.count(pool[a].x)))
                    scores[a] = INFINITY;
            }
            if (thompson && !objective_gps.empty()) {
                ThompsonScores(objective_gps, objective_states, values, post, scalariser, scores,
                               rng);
            }
            int best = -1;
            int best_morph = -1;
            for (size_t a = 0; a < pool.size(); ++a) {
                if (!std::isfinite(scores[a])) continue;
                if (best < 0 || scores[a] < scores[static_cast<size_t>(best)])
                    best = static_cast<int>(a);
                if (pool[a].parent >= 0 &&
                    (best_morph < 0 || scores[a] < scores[static_cast<size_t>(best_morph)])) {
                    best_morph = static_cast<int>(a);
                }
            }

            // Refinement: moves around the best observations under these
            // weights, then a local search from the best candidates so far.
            std::optional<Candidate> refined;
            double refined_score = INFINITY;
            if (!thompson) {
                LocalSearch(valid, feasible_rows, pool, scores, scalariser, objective_gps,
                            constraint_gps, taken, rng, &refined, &refined_score);
            }
            if (best < 0 && !refined) break;
            bool take_refined =
                refined && (best < 0 || refined_score < scores[static_cast<size_t>(best)]);
            // A morphism within the tolerance of the best score wins: its
            // child inherits the parent's trained weights.
            const double top = take_refined ? refined_score : scores[static_cast<size_t>(best)];
            if (morph_phase && best_morph >= 0 &&
                scores[static_cast<size_t>(best_morph)] <= top + settings_.morph_tolerance) {
                best = best_morph;
                take_refined = false;
            }
            Candidate& pick = take_refined ? *refined : pool[static_cast<size_t>(best)];
            if (scalariser.kind == Scalarisation::kHypervolumeImprovement) {
                // The Kriging believer for the front too: the pick at its
                // predicted values.
                scalariser.front.push_back(PredictedNormalized(pick, objective_gps, scalariser));
            }
            const bool last = b + 1 == batch;  // no fantasy needed after the last pick
            if (take_refined) {
                refined_picks.insert(pick.x);
            } else {
                used[static_cast<size_t>(best)] = 1;
            }
            if (last) {
                // Nothing to update.
            } else if (take_refined) {
                for (size_t g = 0; g < objective_gps.size(); ++g)
                    objective_gps[g].AddFantasy(pick.input, objective_states[g]);
                for (size_t g = 0; g < constraint_gps.size(); ++g)
                    constraint_gps[g].AddFantasy(pick.input, constraint_states[g]);
            } else {
                for (size_t g = 0; g < objective_gps.size(); ++g)
                    objective_gps[g].AddFantasyFromCandidate(objective_states[g], best);
                for (size_t g = 0; g < constraint_gps.size(); ++g)
                    constraint_gps[g].AddFantasyFromCandidate(constraint_states[g], best);
            }
            taken.insert(pick.x);
            out.push_back(Suggestion{pick.x, pick.parent, pick.source, pick.operation,
                                     std::move(pick.detail)});
        }
        return out;
    }

  private:
    // kStaged: which scalarisation this suggestion uses (see optimizer.h). No
    // draw is made when the choice is certain.
    Scalarisation Staged(int observations, Rng& rng) const {
        const bool early = observations < settings_.chebyshev_per_dimension * domain_->dimension();
        if (!early || learnt_.empty()) return Scalarisation::kHypervolume;
        if (learnt_.size() == known_.size()) return Scalarisation::kChebyshev;
        const double share =
            static_cast<double>(learnt_.size()) / static_cast<double>(known_.size());
        return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < share
                   ? Scalarisation::kChebyshev
                   : Scalarisation::kHypervolume;
    }

    int InputSize() const { return domain_->dimension() + static_cast<int>(features_); }
    static Vector Join(const Vector& x, const Vector& features) {
        Vector input = x;
        input.insert(input.end(), features.begin(), features.end());
        return input;
    }
    Vector Input(const Vector& x) const { return Join(x, domain_->Assess(x).features); }
    Matrix Inputs(const std::vector<Candidate>& candidates) const {
        Matrix px(static_cast<int>(candidates.size()), InputSize());
        for (size_t a = 0; a < candidates.size(); ++a) {
            std::copy(candidates[a].input.begin(), candidates[a].input.end(),
                      px.row(static_cast<int>(a)));
        }
        return px;
    }

    static bool KeptConstraints(const Observation& o) {
        for (double c : o.constraints) {
            if (std::isfinite(c) && c > 0.0) return false;
        }
        return true;
    }

    // Optimism is spent on the main effects: the first-order part's posterior
    // variance where the GP has one. The full variance is largest at the
    // corners of the cube, far from every observation, and in ten or more
    // dimensions an optimistic bound there outbids every informed candidate
    // (on DTLZ2 that is where the distance function is worst); the
    // first-order variance is large where single inputs take values not yet
    // seen, which is exploration a few dozen points can pay for.
    static const Vector& ExploreVariance(const Vector& variance, const Vector& first_order) {
        return first_order.empty() ? variance : first_order;
    }

    // The value improvements are measured from: the reference point itself for
    // the hypervolume scalarisation and improvement (0), the best feasible
    // observation for Chebyshev.
    static double Baseline(const std::vector<Vector>& y_feasible, const Scalariser& s) {
        if (s.kind != Scalarisation::kChebyshev) return 0.0;
        double best = INFINITY;
        for (const Vector& y : y_feasible) best = std::min(best, s.Value(y.data()));
        return best;
    }

    // One GP per measured constraint, on every observation that measured it.
    std::vector<GaussianProcess> FitConstraints(const std::vector<Observation>& observed,
                                                Rng& rng) const {
        size_t count = 0;
        for (const Observation& o : observed) count = std::max(count, o.constraints.size());
        std::vector<GaussianProcess> gps;
        for (size_t k = 0; k < count; ++k) {
            std::vector<const Observation*> rows;
            for (const Observation& o : observed) {
                if (k < o.constraints.size() && std::isfinite(o.constraints[k])) rows.push_back(&o);
            }
            const int cap = settings_.max_gp_points;
            if (cap > 0 && static_cast<int>(rows.size()) > cap) {
                std::shuffle(rows.begin(), rows.end(), rng);
                rows.resize(static_cast<size_t>(cap));
            }
            if (rows.size() < 2) continue;  // nothing to learn from yet: no weighting
            Matrix x(static_cast<int>(rows.size()), InputSize());
            Vector c;
            for (size_t i = 0; i < rows.size(); ++i) {
                const Vector xi = Input(rows[i]->x);
                std::copy(xi.begin(), xi.end(), x.row(static_cast<int>(i)));
                c.push_back(rows[i]->constraints[k]);
            }
            gps.push_back(GaussianProcess::Fit(x, c, settings_.fit, rng));
        }
        return gps;
    }

    // values(a, j): known objectives exactly, learnt ones optimistically.
    Vector OptimisticValues(const std::vector<Candidate>& cands, const Posterior& post) const {
        const size_t m = known_.size();
        Vector values(cands.size() * m);
        for (size_t a = 0; a < cands.size(); ++a) {
            for (size_t j = 0; j < m; ++j) values[a * m + j] = cands[a].known[j];
        }
        for (size_t g = 0; g < learnt_.size(); ++g) {
            const size_t j = static_cast<size_t>(learnt_[g]);
            for (size_t a = 0; a < cands.size(); ++a) {
                values[a * m + j] = LowerConfidenceBound(
                    post.objective_mean[g][a], post.objective_explore[g][a], settings_.ucb_kappa);
            }
        }
        return values;
    }

    Vector Scores(const Vector& values, const Posterior& post, const Scalariser& s) const {
        const size_t m = known_.size();
        const size_t count = values.size() / m;
        Vector scores(count);
        for (size_t a = 0; a < count; ++a) {
            double feasibility = 1.0;
            for (size_t g = 0; g < post.constraint_mean.size(); ++g) {
                feasibility *= ProbabilityOfFeasibility(post.constraint_mean[g][a],
                                                        post.constraint_variance[g][a]);
            }
            scores[a] = s.Score(&values[a * m], feasibility);
        }
        return scores;
    }

    Posterior Predict(const Matrix& inputs, const std::vector<GaussianProcess>& objective_gps,
                      const std::vector<GaussianProcess>& constraint_gps) const {
        Posterior post;
        for (const GaussianProcess& gp : objective_gps) {
            // The first-order variance, or the full one where there is no
            // first-order part (Predict hands that over in its place).
            Vector mean;
            Vector explore;
            gp.Predict(inputs, &mean, nullptr, &explore);
            post.objective_mean.push_back(std::move(mean));
            post.objective_explore.push_back(std::move(explore));
        }
        for (const GaussianProcess& gp : constraint_gps) {
            post.constraint_mean.emplace_back();
            post.constraint_variance.emplace_back();
            gp.Predict(inputs, &post.constraint_mean.back(), &post.constraint_variance.back());
        }
        return post;
    }

    Vector ScoreFresh(const std::vector<Candidate>& cands, const Scalariser& s,
                      const std::vector<GaussianProcess>& objective_gps,
                      const std::vector<GaussianProcess>& constraint_gps) const {
        if (cands.empty()) return {};
        const Posterior post = Predict(Inputs(cands), objective_gps, constraint_gps);
        return Scores(OptimisticValues(cands, post), post, s);
    }

    // The candidate's predicted (mean) objective vector, normalised.
    Vector PredictedNormalized(const Candidate& c, const std::vector<GaussianProcess>& gps,
                               const Scalariser& s) const {
        Vector mean = c.known;
        const Posterior p = Predict(Inputs({c}), gps, {});
        for (size_t g = 0; g < learnt_.size(); ++g)
            mean[static_cast<size_t>(learnt_[g])] = p.objective_mean[g][0];
        for (size_t j = 0; j < mean.size(); ++j) mean[j] = (mean[j] - s.ideal[j]) / s.range[j];
        return mean;
    }

    // A canonical, feasible candidate at x, or nullopt when x is taken or infeasible.
    std::optional<Candidate> Make(Vector x, const std::set<Vector>& taken) const {
        if (taken.count(x)) return std::nullopt;
        Assessment a = domain_->Assess(x);
        if (!a.feasible) return std::nullopt;
        Vector input = Join(x, a.features);
        return Candidate{std::move(x), std::move(input), std::move(a.known), -1, "local", "", {}};
    }

    // A random move from x of about `step` (unit-cube units): a few
    // coordinates or all of them, reflected at the bounds; sometimes one to
    // three coordinates onto their nearer bound; then canonical.
    Vector Perturb(const Vector& x, double step, Rng& rng) const {
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        std::normal_distribution<double> normal(0.0, 1.0);
        const int d = static_cast<int>(x.size());
        std::uniform_int_distribution<int> pick(0, d - 1);
        for (int attempt = 0; attempt < 8; ++attempt) {
            Vector y = x;
            if (unit(rng) < 0.5) {
                const int count = 1 + static_cast<int>(unit(rng) * std::min(d, 3));
                for (int k = 0; k < count; ++k) {
                    double& v = y[static_cast<size_t>(pick(rng))];
                    v = Reflect(v + 2.0 * step * normal(rng));
                }
            } else {
                for (double& v : y) v = Reflect(v + step * normal(rng));
            }
            if (unit(rng) < kFaceMoveProbability) {
                const int count = 1 + static_cast<int>(unit(rng) * std::min(d, 3));
                for (int k = 0; k < count; ++k) {
                    const size_t j = static_cast<size_t>(pick(rng));
                    y[j] = x[j] < 0.5 ? 0.0 : 1.0;
                }
            }
            y = domain_->Canonicalize(y);
            if (y != x) return y;
        }
        return domain_->Mutate(x, rng);
    }

    // The acquisition's local search (see the constants above). Sets `best`
    // to the best candidate it found that is not in the pool, if that beats
    // `*best_score`.
    void LocalSearch(const Valid& valid, const std::vector<int>& feasible_rows,
                     const std::vector<Candidate>& pool, const Vector& pool_scores,
                     const Scalariser& s, const std::vector<GaussianProcess>& objective_gps,
                     const std::vector<GaussianProcess>& constraint_gps,
                     const std::set<Vector>& taken, Rng& rng, std::optional<Candidate>* best,
                     double* best_score) const {
        // Incumbents: the feasible observations with the best scalarised
        // values (ties, such as front members under the hypervolume
        // improvement, in random order).
        std::vector<std::pair<double, int>> ranked;
        std::uniform_real_distribution<double> jitter(0.0, 1e-9);
        for (int i : feasible_rows) {
            ranked.emplace_back(s.Value(valid.y[static_cast<size_t>(i)].data()) + jitter(rng), i);
        }
        const size_t incumbents = std::min(ranked.size(), static_cast<size_t>(kIncumbents));
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(incumbents),
                          ranked.end());
        std::vector<Candidate> fresh;
        std::uniform_int_distribution<size_t> pick_step(0, std::size(kIncumbentSteps) - 1);
        for (size_t r = 0; r < incumbents; ++r) {
            const Vector& x0 = valid.x[static_cast<size_t>(ranked[r].second)];
            for (int k = 0; k < kIncumbentMoves; ++k) {
                auto c = Make(Perturb(x0, kIncumbentSteps[pick_step(rng)], rng), taken);
                if (c) fresh.push_back(std::move(*c));
            }
        }
        const Vector fresh_scores = ScoreFresh(fresh, s, objective_gps, constraint_gps);

        // Starts: the best of the pool and of the fresh moves.
        struct Start {
            Candidate c;
            double score;
            double step;
        };
        std::vector<std::pair<double, int>> order;  // index >= 0: pool, < 0: fresh
        for (size_t a = 0; a < pool.size(); ++a) {
            if (std::isfinite(pool_scores[a]))
                order.emplace_back(pool_scores[a], static_cast<int>(a));
        }
        for (size_t a = 0; a < fresh.size(); ++a) {
            order.emplace_back(fresh_scores[a], -1 - static_cast<int>(a));
        }
        const size_t starts = std::min(order.size(), static_cast<size_t>(kStarts));
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(starts),
                          order.end());
        std::vector<Start> active;
        for (size_t k = 0; k < starts; ++k) {
            const int idx = order[k].second;
            const Candidate& c =
                idx >= 0 ? pool[static_cast<size_t>(idx)] : fresh[static_cast<size_t>(-1 - idx)];
            active.push_back(Start{c, order[k].first, kFirstStep});
        }
        for (int round = 0; round < kRounds && !active.empty(); ++round) {
            std::vector<Candidate> moves;
            std::vector<size_t> owner;
            for (size_t k = 0; k < active.size(); ++k) {
                for (int j = 0; j < kMovesPerRound; ++j) {
                    auto c = Make(Perturb(active[k].c.x, active[k].step, rng), taken);
                    if (!c) continue;
                    moves.push_back(std::move(*c));
                    owner.push_back(k);
                }
            }
            const Vector move_scores = ScoreFresh(moves, s, objective_gps, constraint_gps);
            std::vector<int> improved(active.size(), -1);
            for (size_t j = 0; j < moves.size(); ++j) {
                const Start& st = active[owner[j]];
                const int cur = improved[owner[j]];
                const double target = cur >= 0 ? move_scores[static_cast<size_t>(cur)] : st.score;
                if (move_scores[j] < target) improved[owner[j]] = static_cast<int>(j);
            }
            for (size_t k = 0; k < active.size(); ++k) {
                if (improved[k] >= 0) {
                    active[k].c = std::move(moves[static_cast<size_t>(improved[k])]);
                    active[k].score = move_scores[static_cast<size_t>(improved[k])];
                    active[k].step = std::min(kLargestStep, active[k].step * 1.5);
                } else {
                    active[k].step *= 0.5;
                }
            }
        }
        for (Start& st : active) {
            // A start from the pool that never moved is the pool's own candidate.
            if (st.c.source == "local" && st.score < *best_score) {
                *best_score = st.score;
                *best = std::move(st.c);
            }
        }
    }

    // All observations, or at most max_gp_points of them: the best
    // non-dominated ranks first (half the budget), the rest at random.
    std::vector<int> ConditioningSet(const Valid& valid, Rng& rng) const {
        const int n = static_cast<int>(valid.x.size());
        std::vector<int> rows(static_cast<size_t>(n));
        std::iota(rows.begin(), rows.end(), 0);
        const int cap = settings_.max_gp_points;
        if (cap <= 0 || n <= cap) return rows;
        const std::vector<int> rank = NonDominatedRanks(valid.y);
        std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) {
            return rank[static_cast<size_t>(a)] < rank[static_cast<size_t>(b)];
        });
        const size_t head = static_cast<size_t>(cap / 2);
        std::shuffle(rows.begin() + static_cast<std::ptrdiff_t>(head), rows.end(), rng);
        rows.resize(static_cast<size_t>(cap));
        std::sort(rows.begin(), rows.end());
        return rows;
    }

    std::vector<Candidate> Pool(const Valid& valid, const std::vector<int>& feasible_rows,
                                bool morph_phase, const std::set<Vector>& taken, Rng& rng) const {
        std::vector<Candidate> pool;
        std::set<Vector> seen = taken;
        auto add = [&](Vector x, int parent, const char* source, std::string operation,
                       std::any detail) {
            if (seen.count(x)) return;
            Assessment a = domain_->Assess(x);
            seen.insert(x);
            if (!a.feasible) return;
            Vector input = Join(x, a.features);
            pool.push_back(Candidate{std::move(x), std::move(input), std::move(a.known), parent,
                                     source, std::move(operation), std::move(detail)});
        };
        // Quasi-random points, from a sequence scrambled afresh per call.
        const ScrambledHalton halton(domain_->dimension(), rng());
        for (int i = 0; i < settings_.random_candidates; ++i) {
            add(domain_->Canonicalize(halton.Point(static_cast<uint64_t>(i))), -1, "pool", "", {});
        }
        // Parents: the observed (feasible) front, topped up with the next ranks.
        std::vector<Vector> ys;
        for (int i : feasible_rows) ys.push_back(valid.y[static_cast<size_t>(i)]);
        const std::vector<int> rank = NonDominatedRanks(ys);
        std::vector<int> parents(ys.size());
        std::iota(parents.begin(), parents.end(), 0);
        std::stable_sort(parents.begin(), parents.end(), [&](int a, int b) {
            return rank[static_cast<size_t>(a)] < rank[static_cast<size_t>(b)];
        });
        size_t keep = 0;
        while (keep < parents.size() && (rank[static_cast<size_t>(parents[keep])] == 0 ||
                                         static_cast<int>(keep) < settings_.min_parents)) {
            ++keep;
        }
        parents.resize(keep);
        for (int& p : parents) p = feasible_rows[static_cast<size_t>(p)];
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int k = 0; k < settings_.local_candidates && !parents.empty(); ++k) {
            const int p = parents[static_cast<size_t>(k) % parents.size()];
            const Vector& px = valid.x[static_cast<size_t>(p)];
            if (morph_phase && k % 2 == 1) {
                std::optional<Morphism> morph = domain_->Morph(px, rng);
                if (morph) {
                    add(std::move(morph->child), valid.index[static_cast<size_t>(p)], "morphism",
                        std::move(morph->operation), std::move(morph->detail));
                    continue;
                }
            }
            Vector child = domain_->Mutate(px, rng);
            if (unit(rng) < 0.3) child = domain_->Mutate(child, rng);
            add(std::move(child), -1, "mutation", "", {});
        }
        return pool;
    }

    // Thompson sampling: one joint posterior sample per GP over the candidates
    // with the best optimistic scores; every other candidate is ruled out.
    void ThompsonScores(std::vector<GaussianProcess>& gps,
                        const std::vector<GaussianProcess::CandidateState>& states, Vector values,
                        const Posterior& post, const Scalariser& s, Vector& scores,
                        Rng& rng) const {
        const size_t m = known_.size();
        std::vector<int> order(scores.size());
        std::iota(order.begin(), order.end(), 0);
        const size_t k = std::min(order.size(), static_cast<size_t>(settings_.thompson_candidates));
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k),
                          order.end(), [&](int a, int b) {
                              return scores[static_cast<size_t>(a)] <
                                     scores[static_cast<size_t>(b)];
                          });
        order.resize(k);
        std::normal_distribution<double> normal(0.0, 1.0);
        for (size_t g = 0; g < gps.size(); ++g) {
            Matrix cov = gps[g].Covariance(states[g], order);
            CholeskyInPlace(cov, 12);
            Vector z(k);
            for (double& v : z) v = normal(rng);
            for (size_t i = 0; i < k; ++i) {
                double sample = states[g].mean[static_cast<size_t>(order[i])];
                for (size_t j = 0; j <= i; ++j)
                    sample += cov(static_cast<int>(i), static_cast<int>(j)) * z[j];
                values[static_cast<size_t>(order[i]) * m + static_cast<size_t>(learnt_[g])] =
                    sample;
            }
        }
        const Vector sampled_scores = Scores(values, post, s);
        Vector sampled(scores.size(), INFINITY);
        for (size_t i = 0; i < k; ++i) {
            const size_t a = static_cast<size_t>(order[i]);
            if (std::isfinite(scores[a])) sampled[a] = sampled_scores[a];
        }
        scores.swap(sampled);
    }

    std::shared_ptr<const Domain> domain_;
    OptimizerSettings settings_;
    std::vector<bool> known_;
    std::vector<int> learnt_;
    size_t features_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> MakeMobo(std::shared_ptr<const Domain> domain,
                                    const OptimizerSettings& settings) {
    return std::make_unique<Mobo>(std::move(domain), settings);
}

}  // namespace hilnas::optimizer::internal
