#include "algorithms.h"
#include "search_util.h"

namespace hilnas::optimizer::internal {
namespace {

class RandomSearch : public Optimizer {
  public:
    RandomSearch(std::shared_ptr<const Domain> domain, const OptimizerSettings& settings)
        : domain_(std::move(domain)), settings_(settings) {}

    std::string_view name() const override { return "random"; }

    std::vector<Suggestion> Suggest(int batch, const std::vector<Observation>& observed,
                                    const std::vector<Vector>& pending, Rng& rng) override {
        std::set<Vector> taken = TakenPoints(observed, pending);
        std::vector<Suggestion> out;
        for (int b = 0; b < batch; ++b) {
            Vector x = RandomFeasible(*domain_, taken, rng);
            if (x.empty()) break;
            taken.insert(x);
            out.push_back(Suggestion{std::move(x), -1, "random", "", {}});
        }
        return out;
    }

  private:
    std::shared_ptr<const Domain> domain_;
    OptimizerSettings settings_;
};

}  // namespace

std::unique_ptr<Optimizer> MakeRandom(std::shared_ptr<const Domain> domain,
                                      const OptimizerSettings& settings) {
    return std::make_unique<RandomSearch>(std::move(domain), settings);
}

}  // namespace hilnas::optimizer::internal
