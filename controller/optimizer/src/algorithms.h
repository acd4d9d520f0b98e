// The optimisers behind MakeOptimizer (not part of the public API).
#pragma once

#include <memory>

#include "hilnas/optimizer/optimizer.h"

namespace hilnas::optimizer::internal {

std::unique_ptr<Optimizer> MakeRandom(std::shared_ptr<const Domain> domain,
                                      const OptimizerSettings& settings);
std::unique_ptr<Optimizer> MakeNsga2(std::shared_ptr<const Domain> domain,
                                     const OptimizerSettings& settings);
std::unique_ptr<Optimizer> MakeMobo(std::shared_ptr<const Domain> domain,
                                    const OptimizerSettings& settings);

}  // namespace hilnas::optimizer::internal
