#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "algorithms.h"
#include "hilnas/optimizer/pareto.h"
#include "hilnas/optimizer/quasi_random.h"
#include "search_util.h"

namespace hilnas::optimizer::internal {
namespace {

struct Candidate {
    Vector x;
    Vector input;     // x and the domain's features: what the GPs see
    Vector known;     // per objective; NaN where learnt
    int parent = -1;  // index into `observed` (morphisms only)
    std::string source;
    std::string operation;
    std::any detail;
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
    }

    std::string_view name() const override { return "mobo"; }

    std::vector<Suggestion> Suggest(int batch, const std::vector<Observation>& observed,
                                    const std::vector<Vector>& pending, Rng& rng) override {
        std::set<Vector> taken = TakenPoints(observed, pending);
        const int m = domain_->num_objectives();
        const Valid valid = ValidObservations(observed, m);
        const int n = static_cast<int>(valid.x.size());
        if (n < std::max(settings_.warmup, 2)) {
            return Warmup(*domain_, settings_, observed.size() + pending.size(), batch, taken, rng);
        }

        // One GP per learnt objective, on (a subset of) the observations.
        const std::vector<int> rows = ConditioningSet(valid, rng);
        Matrix x(static_cast<int>(rows.size()), InputSize());
        for (size_t i = 0; i < rows.size(); ++i) {
            const Vector xi = Input(valid.x[static_cast<size_t>(rows[i])]);
            std::copy(xi.begin(), xi.end(), x.row(static_cast<int>(i)));
        }
        std::vector<int> learnt;
        for (int j = 0; j < m; ++j) {
            if (!known_[static_cast<size_t>(j)]) learnt.push_back(j);
        }
        std::vector<GaussianProcess> gps;
        for (int j : learnt) {
            Vector y;
            for (int r : rows) y.push_back(valid.y[static_cast<size_t>(r)][static_cast<size_t>(j)]);
            gps.push_back(GaussianProcess::Fit(x, y, settings_.fit, rng));
            for (const Vector& p : pending) gps.back().AddFantasy(Input(p));
        }

        const bool morph_phase = n >= settings_.morph_after;
        std::vector<Candidate> pool = Pool(valid, morph_phase, taken, rng);
        if (pool.empty()) return Warmup(*domain_, settings_, observed.size(), batch, taken, rng);
        Matrix px(static_cast<int>(pool.size()), InputSize());
        for (size_t a = 0; a < pool.size(); ++a) {
            std::copy(pool[a].input.begin(), pool[a].input.end(), px.row(static_cast<int>(a)));
        }
        std::vector<GaussianProcess::CandidateState> states;
        for (const GaussianProcess& gp : gps) states.push_back(gp.Candidates(px));

        // Normalisation of every objective by the observed range.
        const ObjectiveBounds bounds = BoundsOf(valid.y);
        Vector lo = bounds.ideal;
        Vector range(static_cast<size_t>(m));
        for (int j = 0; j < m; ++j) {
            const double r = bounds.nadir[static_cast<size_t>(j)] - lo[static_cast<size_t>(j)];
            range[static_cast<size_t>(j)] = r > 0 ? r : 1.0;
        }
        const bool hv_scalarisation = settings_.scalarisation == Scalarisation::kHypervolume;
        // The reference point of the normalised observations.
        const Vector reference =
            ReferencePoint(Normalize(valid.y, ObjectiveBounds{lo, bounds.nadir}));

        std::vector<char> used(pool.size(), 0);
        std::vector<Suggestion> out;
        std::gamma_distribution<double> exponential(1.0, 1.0);
        std::normal_distribution<double> normal(0.0, 1.0);
        const size_t pool_size = pool.size();
        for (int b = 0; b < batch; ++b) {
            // Weights on the simplex: uniform there (Chebyshev), or with a
            // direction uniform on the sphere (hypervolume scalarisation).
            Vector w(static_cast<size_t>(m));
            double sum = 0.0;
            for (double& v : w) {
                v = hv_scalarisation ? std::abs(normal(rng)) + 1e-12 : exponential(rng);
                sum += v;
            }
            for (double& v : w) v /= sum;

            // value(a, j): the optimistic (or sampled) value of objective j at a.
            Vector values(pool_size * static_cast<size_t>(m));
            for (size_t a = 0; a < pool_size; ++a) {
                for (int j = 0; j < m; ++j)
                    values[a * static_cast<size_t>(m) + static_cast<size_t>(j)] =
                        pool[a].known[static_cast<size_t>(j)];
            }
            for (size_t g = 0; g < gps.size(); ++g) {
                const size_t j = static_cast<size_t>(learnt[g]);
                for (size_t a = 0; a < pool_size; ++a) {
                    values[a * static_cast<size_t>(m) + j] =
                        states[g].mean[a] - settings_.ucb_kappa * std::sqrt(states[g].variance[a]);
                }
            }
            auto score = [&](const double* v) {
                double mx = -INFINITY;
                if (hv_scalarisation) {
                    for (int j = 0; j < m; ++j) {
                        const size_t uj = static_cast<size_t>(j);
                        mx = std::max(mx, ((v[j] - lo[uj]) / range[uj] - reference[uj]) / w[uj]);
                    }
                    return mx;
                }
                double total = 0.0;
                for (int j = 0; j < m; ++j) {
                    const size_t uj = static_cast<size_t>(j);
                    const double z = w[uj] * (v[j] - lo[uj]) / range[uj];
                    mx = std::max(mx, z);
                    total += z;
                }
                return mx + settings_.chebyshev_rho * total;
            };
            Vector scores(pool_size, INFINITY);
            for (size_t a = 0; a < pool_size; ++a) {
                if (!used[a]) scores[a] = score(&values[a * static_cast<size_t>(m)]);
            }
            if (settings_.acquisition == Acquisition::kThompson && !gps.empty()) {
                ThompsonScores(gps, states, learnt, values, m, score, scores, rng);
            }
            int best = -1;
            int best_morph = -1;
            for (size_t a = 0; a < pool_size; ++a) {
                if (used[a] || !std::isfinite(scores[a])) continue;
                if (best < 0 || scores[a] < scores[static_cast<size_t>(best)])
                    best = static_cast<int>(a);
                if (pool[a].parent >= 0 &&
                    (best_morph < 0 || scores[a] < scores[static_cast<size_t>(best_morph)])) {
                    best_morph = static_cast<int>(a);
                }
            }
            if (best < 0) break;
            if (morph_phase && best_morph >= 0 &&
                scores[static_cast<size_t>(best_morph)] <=
                    scores[static_cast<size_t>(best)] + settings_.morph_tolerance) {
                best = best_morph;
            }
            used[static_cast<size_t>(best)] = 1;
            for (size_t g = 0; g < gps.size(); ++g) gps[g].AddFantasyFromCandidate(states[g], best);
            Candidate& c = pool[static_cast<size_t>(best)];
            taken.insert(c.x);
            out.push_back(Suggestion{c.x, c.parent, c.source, c.operation, std::move(c.detail)});
        }
        return out;
    }

  private:
    int InputSize() const { return domain_->dimension() + static_cast<int>(features_); }
    static Vector Join(const Vector& x, const Vector& features) {
        Vector input = x;
        input.insert(input.end(), features.begin(), features.end());
        return input;
    }
    Vector Input(const Vector& x) const { return Join(x, domain_->Assess(x).features); }

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

    std::vector<Candidate> Pool(const Valid& valid, bool morph_phase, const std::set<Vector>& taken,
                                Rng& rng) const {
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
        // Parents: the observed front, topped up with the next ranks.
        const std::vector<int> rank = NonDominatedRanks(valid.y);
        std::vector<int> parents(valid.x.size());
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
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int k = 0; k < settings_.local_candidates; ++k) {
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
    template <typename Score>
    void ThompsonScores(std::vector<GaussianProcess>& gps,
                        const std::vector<GaussianProcess::CandidateState>& states,
                        const std::vector<int>& learnt, Vector values, int m, const Score& score,
                        Vector& scores, Rng& rng) const {
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
                double s = states[g].mean[static_cast<size_t>(order[i])];
                for (size_t j = 0; j <= i; ++j)
                    s += cov(static_cast<int>(i), static_cast<int>(j)) * z[j];
                values[static_cast<size_t>(order[i]) * static_cast<size_t>(m) +
                       static_cast<size_t>(learnt[g])] = s;
            }
        }
        Vector sampled(scores.size(), INFINITY);
        for (size_t i = 0; i < k; ++i) {
            const size_t a = static_cast<size_t>(order[i]);
            if (std::isfinite(scores[a])) sampled[a] = score(&values[a * static_cast<size_t>(m)]);
        }
        scores.swap(sampled);
    }

    std::shared_ptr<const Domain> domain_;
    OptimizerSettings settings_;
    std::vector<bool> known_;
    size_t features_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> MakeMobo(std::shared_ptr<const Domain> domain,
                                    const OptimizerSettings& settings) {
    return std::make_unique<Mobo>(std::move(domain), settings);
}

}  // namespace hilnas::optimizer::internal
