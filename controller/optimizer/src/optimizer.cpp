#include "hilnas/optimizer/optimizer.h"

#include <string>

#include "algorithms.h"
#include "hilnas/common/errors.h"

namespace hilnas::optimizer {

std::unique_ptr<Optimizer> MakeOptimizer(std::string_view name,
                                         std::shared_ptr<const Domain> domain,
                                         const OptimizerSettings& settings) {
    if (!domain) throw InvalidArgument("optimizer: no domain");
    if (name == "random") return internal::MakeRandom(std::move(domain), settings);
    if (name == "nsga2") return internal::MakeNsga2(std::move(domain), settings);
    if (name == "mobo") return internal::MakeMobo(std::move(domain), settings);
    throw InvalidArgument(
        "unknown optimizer '" + std::string(name) + "' (expected random, nsga2 or mobo)",
        "optimizer");
}

}  // namespace hilnas::optimizer
