#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "algorithms.h"
#include "hilnas/optimizer/pareto.h"
#include "search_util.h"

namespace hilnas::optimizer::internal {
namespace {

// Crowding distance of each point within its own front.
std::vector<double> CrowdingDistances(const std::vector<Vector>& y, const std::vector<int>& rank) {
    std::vector<double> crowd(y.size(), 0.0);
    if (y.empty()) return crowd;
    const size_t m = y[0].size();
    const int fronts = *std::max_element(rank.begin(), rank.end()) + 1;
    for (int f = 0; f < fronts; ++f) {
        std::vector<int> members;
        for (size_t i = 0; i < y.size(); ++i) {
            if (rank[i] == f) members.push_back(static_cast<int>(i));
        }
        for (size_t k = 0; k < m; ++k) {
            std::sort(members.begin(), members.end(), [&](int a, int b) {
                const double ya = y[static_cast<size_t>(a)][k];
                const double yb = y[static_cast<size_t>(b)][k];
                return ya != yb ? ya < yb : a < b;
            });
            const double lo = y[static_cast<size_t>(members.front())][k];
            const double hi = y[static_cast<size_t>(members.back())][k];
            crowd[static_cast<size_t>(members.front())] = INFINITY;
            crowd[static_cast<size_t>(members.back())] = INFINITY;
            if (hi <= lo) continue;
            for (size_t j = 1; j + 1 < members.size(); ++j) {
                crowd[static_cast<size_t>(members[j])] +=
                    (y[static_cast<size_t>(members[j + 1])][k] -
                     y[static_cast<size_t>(members[j - 1])][k]) /
                    (hi - lo);
            }
        }
    }
    return crowd;
}

class Nsga2 : public Optimizer {
  public:
    Nsga2(std::shared_ptr<const Domain> domain, const OptimizerSettings& settings)
        : domain_(std::move(domain)), settings_(settings) {}

    std::string_view name() const override { return "nsga2"; }

    std::vector<Suggestion> Suggest(int batch, const std::vector<Observation>& observed,
                                    const std::vector<Vector>& pending, Rng& rng) override {
        std::set<Vector> taken = TakenPoints(observed, pending);
        const Valid valid = ValidObservations(observed, domain_->num_objectives());
        const int population = std::max(2, settings_.population);
        if (static_cast<int>(valid.x.size()) < population) {
            return Warmup(*domain_, settings_, observed.size() + pending.size(), batch, taken, rng);
        }
        // Environmental selection over every observation: (mu + lambda) elitism.
        const std::vector<int> rank = NonDominatedRanks(valid.y);
        const std::vector<double> crowd = CrowdingDistances(valid.y, rank);
        std::vector<int> order(valid.x.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int a, int b) {
            const size_t ua = static_cast<size_t>(a);
            const size_t ub = static_cast<size_t>(b);
            if (rank[ua] != rank[ub]) return rank[ua] < rank[ub];
            if (crowd[ua] != crowd[ub]) return crowd[ua] > crowd[ub];
            return a < b;
        });
        order.resize(static_cast<size_t>(population));

        std::uniform_int_distribution<int> pick(0, population - 1);
        auto tournament = [&]() {
            const int a = order[static_cast<size_t>(pick(rng))];
            const int b = order[static_cast<size_t>(pick(rng))];
            const size_t ua = static_cast<size_t>(a);
            const size_t ub = static_cast<size_t>(b);
            if (rank[ua] != rank[ub]) return rank[ua] < rank[ub] ? a : b;
            return crowd[ua] >= crowd[ub] ? a : b;
        };
        std::vector<Suggestion> out;
        int attempts = 0;
        while (static_cast<int>(out.size()) < batch && attempts < 200 * batch) {
            ++attempts;
            const Vector& p1 = valid.x[static_cast<size_t>(tournament())];
            const Vector& p2 = valid.x[static_cast<size_t>(tournament())];
            Vector c1 = p1;
            Vector c2 = p2;
            Crossover(c1, c2, rng);
            for (Vector* c : {&c1, &c2}) {
                if (static_cast<int>(out.size()) >= batch) break;
                Mutation(*c, rng);
                Vector x = domain_->Canonicalize(*c);
                if (taken.count(x) || !Feasible(*domain_, x)) continue;
                taken.insert(x);
                out.push_back(Suggestion{std::move(x), -1, "nsga2", "", {}});
            }
        }
        while (static_cast<int>(out.size()) < batch) {
            Vector x = RandomFeasible(*domain_, taken, rng);
            if (x.empty()) break;
            taken.insert(x);
            out.push_back(Suggestion{std::move(x), -1, "random", "", {}});
        }
        return out;
    }

  private:
    // Simulated binary crossover (Deb & Agrawal 1995), per variable, in [0, 1].
    void Crossover(Vector& a, Vector& b, Rng& rng) const {
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        if (unit(rng) > settings_.crossover_probability) return;
        const double eta = settings_.sbx_eta;
        for (size_t i = 0; i < a.size(); ++i) {
            if (unit(rng) > 0.5) continue;
            const double y1 = std::min(a[i], b[i]);
            const double y2 = std::max(a[i], b[i]);
            if (y2 - y1 < 1e-14) continue;
            double c1 = 0.0;
            double c2 = 0.0;
            const double r = unit(rng);
            for (int side = 0; side < 2; ++side) {
                const double beta =
                    side == 0 ? 1.0 + 2.0 * y1 / (y2 - y1) : 1.0 + 2.0 * (1.0 - y2) / (y2 - y1);
                const double alpha = 2.0 - std::pow(beta, -(eta + 1.0));
                const double betaq = r <= 1.0 / alpha
                                         ? std::pow(r * alpha, 1.0 / (eta + 1.0))
                                         : std::pow(1.0 / (2.0 - r * alpha), 1.0 / (eta + 1.0));
                if (side == 0) {
                    c1 = 0.5 * ((y1 + y2) - betaq * (y2 - y1));
                } else {
                    c2 = 0.5 * ((y1 + y2) + betaq * (y2 - y1));
                }
            }
            c1 = std::clamp(c1, 0.0, 1.0);
            c2 = std::clamp(c2, 0.0, 1.0);
            if (unit(rng) < 0.5) std::swap(c1, c2);
            a[i] = c1;
            b[i] = c2;
        }
    }

    // Polynomial mutation (Deb & Goyal 1996) with probability 1/d per variable.
    void Mutation(Vector& x, Rng& rng) const {
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const double pm = 1.0 / static_cast<double>(x.size());
        const double eta = settings_.mutation_eta;
        for (double& v : x) {
            if (unit(rng) > pm) continue;
            const double r = unit(rng);
            double dq = 0.0;
            if (r < 0.5) {
                const double xy = 1.0 - v;
                const double val = 2.0 * r + (1.0 - 2.0 * r) * std::pow(xy, eta + 1.0);
                dq = std::pow(val, 1.0 / (eta + 1.0)) - 1.0;
            } else {
                const double xy = v;
                const double val = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * std::pow(xy, eta + 1.0);
                dq = 1.0 - std::pow(val, 1.0 / (eta + 1.0));
            }
            v = std::clamp(v + dq, 0.0, 1.0);
        }
    }

    std::shared_ptr<const Domain> domain_;
    OptimizerSettings settings_;
};

}  // namespace

std::unique_ptr<Optimizer> MakeNsga2(std::shared_ptr<const Domain> domain,
                                     const OptimizerSettings& settings) {
    return std::make_unique<Nsga2>(std::move(domain), settings);
}

}  // namespace hilnas::optimizer::internal
