// The NAS search space as an optimiser Domain: points are arch::Encode
// vectors; neighbours are arch::Mutate and arch::Morph of the decoded Point;
// the analytic cost model decides feasibility and computes the hardware
// objectives it knows exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/space.h"
#include "hilnas/optimizer/domain.h"

namespace hilnas::optimizer {

enum class NasObjective {
    kError,           // learnt: validation error
    kFlashBytes,      // known: CostReport::flash_bytes
    kSramBytes,       // known: CostReport::sram_bytes (arena + runtime RAM + stack estimate)
    kMacs,            // known: CostReport::macs
    kModelSizeBytes,  // known: CostReport::nonzero_weight_bytes (SpArSe's model size)
    kLatency,         // learnt: measured on a board
    kEnergy,          // learnt: measured on a board
};

// Hard limits from the job; 0 means no limit.
struct NasLimits {
    int64_t max_flash_bytes = 0;
    int64_t max_sram_bytes = 0;
    int64_t max_macs = 0;
    std::string board{arch::kDefaultFlashBoard};  // whose firmware the flash figure is for
};

class NasDomain : public Domain {
  public:
    // Validates `space` (throws InvalidArgument).
    NasDomain(arch::SearchSpace space, std::vector<NasObjective> objectives, NasLimits limits = {});

    int dimension() const override { return dimension_; }
    int num_objectives() const override { return static_cast<int>(objectives_.size()); }
    std::vector<bool> known_objectives() const override;
    Vector Canonicalize(const Vector& u) const override;
    Vector Mutate(const Vector& x, Rng& rng) const override;
    // detail holds the arch::Morphed (child, operation and layer mappings).
    std::optional<Morphism> Morph(const Vector& x, Rng& rng) const override;
    // Infeasible when the model does not build or breaks a limit. Features:
    // log10(params) / 7 and log10(MACs) / 9, clamped to [0, 1].
    Assessment Assess(const Vector& x) const override;

    const arch::SearchSpace& space() const { return space_; }
    arch::Point Decode(const Vector& x) const;
    Vector Encode(const arch::Point& point) const;
    // The cost of the decoded point; throws what BuildModel/Analyze throw.
    arch::CostReport Cost(const Vector& x) const;

  private:
    arch::SearchSpace space_;
    std::vector<NasObjective> objectives_;
    NasLimits limits_;
    int dimension_;
};

}  // namespace hilnas::optimizer
