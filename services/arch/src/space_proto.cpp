// The search space's wire form, hilnas.v1.SearchSpace, both ways.
#include <optional>
#include <string>

#include "hilnas/arch/space.h"
#include "hilnas/common/errors.h"
#include "hilnas/v1/job.pb.h"

namespace hilnas::arch {

namespace {

template <typename E, typename P, typename Conv>
void EnumsFromProto(const google::protobuf::RepeatedField<int>& in, std::vector<E>& out, Conv conv,
                    const std::string& field) {
    if (in.empty()) return;
    out.clear();
    for (int v : in) {
        const auto e = conv(static_cast<P>(v));
        if (!e) throw InvalidArgument("unspecified or unknown value " + std::to_string(v), field);
        out.push_back(*e);
    }
}

}  // namespace

SearchSpace SpaceFromProto(const v1::SearchSpace& p, const Shape& input, int classes,
                           const std::string& prefix) {
    const std::string at = prefix.empty() ? "" : prefix + ".";
    SearchSpace s;
    s.input = input;
    s.classes = classes;
    auto range = [](const v1::IntRange& r, bool set, IntRange& out) {
        if (set) out = {r.min(), r.max()};
    };
    auto real = [](const v1::DoubleRange& r, bool set, RealRange& out) {
        if (set) out = {r.min(), r.max(), r.log_scale()};
    };
    range(p.blocks(), p.has_blocks(), s.blocks);
    range(p.channels(), p.has_channels(), s.channels);
    range(p.dense_layers(), p.has_dense_layers(), s.dense_layers);
    range(p.dense_units(), p.has_dense_units(), s.dense_units);
    if (!p.kernel_sizes().empty())
        s.kernel_sizes.assign(p.kernel_sizes().begin(), p.kernel_sizes().end());
    if (!p.weight_bits().empty())
        s.weight_bits.assign(p.weight_bits().begin(), p.weight_bits().end());
    if (!p.expansions().empty()) s.expansions.assign(p.expansions().begin(), p.expansions().end());
    if (p.has_allow_residual()) s.allow_residual = p.allow_residual();
    s.dnas = p.dnas();
    real(p.dnas_shrink(), p.has_dnas_shrink(), s.dnas_shrink);
    EnumsFromProto<BlockKind, v1::BlockKind>(
        p.block_kinds(), s.block_kinds,
        [](v1::BlockKind k) -> std::optional<BlockKind> {
            switch (k) {
                case v1::BLOCK_CONV:
                    return BlockKind::kConv;
                case v1::BLOCK_DEPTHWISE_SEPARABLE:
                    return BlockKind::kDepthwiseSeparable;
                case v1::BLOCK_INVERTED_BOTTLENECK:
                    return BlockKind::kInvertedBottleneck;
                default:
                    return std::nullopt;
            }
        },
        at + "block_kinds");
    EnumsFromProto<Downsample, v1::Downsample>(
        p.downsampling(), s.downsampling,
        [](v1::Downsample d) -> std::optional<Downsample> {
            switch (d) {
                case v1::DOWNSAMPLE_NONE:
                    return Downsample::kNone;
                case v1::DOWNSAMPLE_STRIDE:
                    return Downsample::kStride;
                case v1::DOWNSAMPLE_MAX_POOL:
                    return Downsample::kMaxPool;
                case v1::DOWNSAMPLE_AVG_POOL:
                    return Downsample::kAvgPool;
                default:
                    return std::nullopt;
            }
        },
        at + "downsampling");
    EnumsFromProto<HeadKind, v1::HeadKind>(
        p.heads(), s.heads,
        [](v1::HeadKind h) -> std::optional<HeadKind> {
            switch (h) {
                case v1::HEAD_GLOBAL_AVG_POOL:
                    return HeadKind::kGlobalAvgPool;
                case v1::HEAD_FLATTEN:
                    return HeadKind::kFlatten;
                default:
                    return std::nullopt;
            }
        },
        at + "heads");
    if (p.has_pruning()) {
        EnumsFromProto<PruningMethod, v1::PruningMethod>(
            p.pruning().methods(), s.pruning_methods,
            [](v1::PruningMethod m) -> std::optional<PruningMethod> {
                switch (m) {
                    case v1::PRUNING_NONE:
                        return PruningMethod::kNone;
                    case v1::PRUNING_SPARSE_VD:
                        return PruningMethod::kSparseVd;
                    case v1::PRUNING_CHANNEL:
                        return PruningMethod::kChannel;
                    case v1::PRUNING_BAYESIAN:
                        return PruningMethod::kBayesian;
                    default:
                        return std::nullopt;
                }
            },
            at + "pruning.methods");
        real(p.pruning().target_sparsity(), p.pruning().has_target_sparsity(), s.target_sparsity);
    }
    if (p.has_training()) {
        const auto& t = p.training();
        EnumsFromProto<TrainOptimizer, v1::TrainOptimizer>(
            t.optimizers(), s.optimizers,
            [](v1::TrainOptimizer o) -> std::optional<TrainOptimizer> {
                switch (o) {
                    case v1::TRAIN_OPTIMIZER_SGD:
                        return TrainOptimizer::kSgd;
                    case v1::TRAIN_OPTIMIZER_ADAMW:
                        return TrainOptimizer::kAdamW;
                    default:
                        return std::nullopt;
                }
            },
            at + "training.optimizers");
        real(t.learning_rate(), t.has_learning_rate(), s.learning_rate);
        real(t.weight_decay(), t.has_weight_decay(), s.weight_decay);
        range(t.epochs(), t.has_epochs(), s.epochs);
        if (!t.batch_sizes().empty())
            s.batch_sizes.assign(t.batch_sizes().begin(), t.batch_sizes().end());
    }
    ValidateSpace(s, prefix);
    return s;
}

void SpaceToProto(const SearchSpace& s, v1::SearchSpace* p) {
    p->Clear();
    auto range = [](const IntRange& r, v1::IntRange* out) {
        out->set_min(r.min);
        out->set_max(r.max);
    };
    auto real = [](const RealRange& r, v1::DoubleRange* out) {
        out->set_min(r.min);
        out->set_max(r.max);
        out->set_log_scale(r.log);
    };
    range(s.blocks, p->mutable_blocks());
    for (BlockKind k : s.block_kinds) {
        p->add_block_kinds(k == BlockKind::kConv                 ? v1::BLOCK_CONV
                           : k == BlockKind::kDepthwiseSeparable ? v1::BLOCK_DEPTHWISE_SEPARABLE
                                                                 : v1::BLOCK_INVERTED_BOTTLENECK);
    }
    range(s.channels, p->mutable_channels());
    for (int k : s.kernel_sizes) p->add_kernel_sizes(k);
    for (Downsample d : s.downsampling) {
        p->add_downsampling(d == Downsample::kNone      ? v1::DOWNSAMPLE_NONE
                            : d == Downsample::kStride  ? v1::DOWNSAMPLE_STRIDE
                            : d == Downsample::kMaxPool ? v1::DOWNSAMPLE_MAX_POOL
                                                        : v1::DOWNSAMPLE_AVG_POOL);
    }
    p->set_allow_residual(s.allow_residual);
    for (int e : s.expansions) p->add_expansions(e);
    for (HeadKind h : s.heads) {
        p->add_heads(h == HeadKind::kGlobalAvgPool ? v1::HEAD_GLOBAL_AVG_POOL : v1::HEAD_FLATTEN);
    }
    range(s.dense_layers, p->mutable_dense_layers());
    range(s.dense_units, p->mutable_dense_units());
    for (int b : s.weight_bits) p->add_weight_bits(b);
    for (PruningMethod m : s.pruning_methods) {
        p->mutable_pruning()->add_methods(m == PruningMethod::kNone       ? v1::PRUNING_NONE
                                          : m == PruningMethod::kSparseVd ? v1::PRUNING_SPARSE_VD
                                          : m == PruningMethod::kChannel  ? v1::PRUNING_CHANNEL
                                                                          : v1::PRUNING_BAYESIAN);
    }
    real(s.target_sparsity, p->mutable_pruning()->mutable_target_sparsity());
    auto* t = p->mutable_training();
    for (TrainOptimizer o : s.optimizers) {
        t->add_optimizers(o == TrainOptimizer::kSgd ? v1::TRAIN_OPTIMIZER_SGD
                                                    : v1::TRAIN_OPTIMIZER_ADAMW);
    }
    real(s.learning_rate, t->mutable_learning_rate());
    real(s.weight_decay, t->mutable_weight_decay());
    range(s.epochs, t->mutable_epochs());
    for (int b : s.batch_sizes) t->add_batch_sizes(b);
    p->set_dnas(s.dnas);
    real(s.dnas_shrink, p->mutable_dnas_shrink());
}

}  // namespace hilnas::arch
