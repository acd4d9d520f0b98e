#include "hilnas/optimizer/nas_domain.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "hilnas/common/errors.h"

namespace hilnas::optimizer {

NasDomain::NasDomain(arch::SearchSpace space, std::vector<NasObjective> objectives,
                     NasLimits limits)
    : space_(std::move(space)), objectives_(std::move(objectives)), limits_(limits) {
    arch::ValidateSpace(space_);
    if (objectives_.empty()) throw InvalidArgument("nas domain: no objectives", "objectives");
    dimension_ = arch::EncodingSize(space_);
}

std::vector<bool> NasDomain::known_objectives() const {
    std::vector<bool> known;
    for (NasObjective o : objectives_) {
        known.push_back(o != NasObjective::kError && o != NasObjective::kLatency &&
                        o != NasObjective::kEnergy);
    }
    return known;
}

arch::Point NasDomain::Decode(const Vector& x) const { return arch::Decode(space_, x); }

Vector NasDomain::Encode(const arch::Point& point) const { return arch::Encode(space_, point); }

Vector NasDomain::Canonicalize(const Vector& u) const {
    return Encode(Decode(Domain::Canonicalize(u)));
}

Vector NasDomain::Mutate(const Vector& x, Rng& rng) const {
    return Encode(arch::Mutate(space_, Decode(x), rng));
}

std::optional<Morphism> NasDomain::Morph(const Vector& x, Rng& rng) const {
    std::optional<arch::Morphed> morphed = arch::Morph(space_, Decode(x), rng);
    if (!morphed) return std::nullopt;
    Morphism m;
    m.child = Encode(morphed->child);
    m.operation = morphed->operation;
    m.detail = std::move(*morphed);
    return m;
}

arch::CostReport NasDomain::Cost(const Vector& x) const {
    const arch::Model model = arch::BuildModel(space_, Decode(x));
    return arch::ComputeCost(arch::Analyze(model), arch::PlanStrategy::kBest,
                             arch::RuntimeScratchBytes, limits_.board);
}

Assessment NasDomain::Assess(const Vector& x) const {
    Assessment a;
    a.known.assign(objectives_.size(), NAN);
    a.features.assign(2, 0.0);
    arch::CostReport cost;
    try {
        cost = Cost(x);
    } catch (const Error&) {
        a.feasible = false;
        return a;
    }
    a.feasible = (limits_.max_flash_bytes <= 0 || cost.flash_bytes <= limits_.max_flash_bytes) &&
                 (limits_.max_sram_bytes <= 0 || cost.sram_bytes <= limits_.max_sram_bytes) &&
                 (limits_.max_macs <= 0 || cost.macs <= limits_.max_macs);
    auto log_scaled = [](int64_t v, double decades) {
        return std::clamp(std::log10(static_cast<double>(std::max<int64_t>(v, 1))) / decades, 0.0,
                          1.0);
    };
    a.features = {log_scaled(cost.params, 7.0), log_scaled(cost.macs, 9.0)};
    for (size_t i = 0; i < objectives_.size(); ++i) {
        switch (objectives_[i]) {
            case NasObjective::kFlashBytes:
                a.known[i] = static_cast<double>(cost.flash_bytes);
                break;
            case NasObjective::kSramBytes:
                a.known[i] = static_cast<double>(cost.sram_bytes);
                break;
            case NasObjective::kMacs:
                a.known[i] = static_cast<double>(cost.macs);
                break;
            case NasObjective::kModelSizeBytes:
                a.known[i] = static_cast<double>(cost.nonzero_weight_bytes);
                break;
            case NasObjective::kError:
            case NasObjective::kLatency:
            case NasObjective::kEnergy:
                break;
        }
    }
    return a;
}

}  // namespace hilnas::optimizer
