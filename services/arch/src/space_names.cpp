// The genes' names: a point as readable JSON, and the morphisms' names.
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "hilnas/arch/space.h"

namespace hilnas::arch {

namespace {

template <typename E>
struct Names;
template <>
struct Names<BlockKind> {
    static constexpr std::pair<std::string_view, BlockKind> kAll[] = {
        {"conv", BlockKind::kConv},
        {"depthwise_separable", BlockKind::kDepthwiseSeparable},
        {"inverted_bottleneck", BlockKind::kInvertedBottleneck}};
};
template <>
struct Names<Downsample> {
    static constexpr std::pair<std::string_view, Downsample> kAll[] = {
        {"none", Downsample::kNone},
        {"stride", Downsample::kStride},
        {"max_pool", Downsample::kMaxPool},
        {"avg_pool", Downsample::kAvgPool}};
};
template <>
struct Names<HeadKind> {
    static constexpr std::pair<std::string_view, HeadKind> kAll[] = {
        {"global_avg_pool", HeadKind::kGlobalAvgPool}, {"flatten", HeadKind::kFlatten}};
};
template <>
struct Names<PruningMethod> {
    static constexpr std::pair<std::string_view, PruningMethod> kAll[] = {
        {"none", PruningMethod::kNone},
        {"sparse_vd", PruningMethod::kSparseVd},
        {"channel", PruningMethod::kChannel},
        {"bayesian", PruningMethod::kBayesian}};
};
template <>
struct Names<TrainOptimizer> {
    static constexpr std::pair<std::string_view, TrainOptimizer> kAll[] = {
        {"sgd", TrainOptimizer::kSgd}, {"adamw", TrainOptimizer::kAdamW}};
};

template <typename E>
std::string_view NameOf(E value) {
    for (const auto& [name, v] : Names<E>::kAll) {
        if (v == value) return name;
    }
    return "?";
}

}  // namespace

std::string PointToJson(const Point& p) {
    nlohmann::ordered_json j;
    auto blocks = nlohmann::ordered_json::array();
    for (const Block& b : p.blocks) {
        nlohmann::ordered_json o;
        o["kind"] = std::string(NameOf(b.kind));
        o["channels"] = b.channels;
        o["kernel"] = b.kernel;
        o["down"] = std::string(NameOf(b.down));
        o["residual"] = b.residual;
        if (b.kind == BlockKind::kInvertedBottleneck) o["expansion"] = b.expansion;
        o["bits"] = b.bits;
        blocks.push_back(std::move(o));
    }
    j["blocks"] = std::move(blocks);
    j["head"] = std::string(NameOf(p.head));
    auto dense = nlohmann::ordered_json::array();
    for (const Hidden& h : p.dense) dense.push_back({{"units", h.units}, {"bits", h.bits}});
    j["dense"] = std::move(dense);
    j["classifier_bits"] = p.classifier_bits;
    j["pruning"] = std::string(NameOf(p.pruning));
    if (p.pruning != PruningMethod::kNone) j["target_sparsity"] = p.target_sparsity;
    j["optimizer"] = std::string(NameOf(p.optimizer));
    j["learning_rate"] = p.learning_rate;
    j["weight_decay"] = p.weight_decay;
    j["epochs"] = p.epochs;
    j["batch_size"] = p.batch_size;
    j["dnas"] = p.dnas;
    if (p.dnas) j["dnas_shrink"] = p.dnas_shrink;
    return j.dump();
}

std::string_view MorphismName(MorphismKind kind) {
    switch (kind) {
        case MorphismKind::kCopy:
            return "copy";
        case MorphismKind::kWiden:
            return "widen";
        case MorphismKind::kIdentity:
            return "identity";
        case MorphismKind::kGrowKernel:
            return "grow_kernel";
        case MorphismKind::kFresh:
            return "fresh";
    }
    return "?";
}

}  // namespace hilnas::arch
