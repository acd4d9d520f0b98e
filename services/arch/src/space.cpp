#include "hilnas/arch/space.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "hilnas/common/errors.h"
#include "hilnas/v1/job.pb.h"

namespace hilnas::arch {

namespace {

// ---------------------------------------------------------------- names

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
        {"channel", PruningMethod::kChannel}};
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

template <typename T>
int IndexOf(const std::vector<T>& choices, const T& value) {
    const auto it = std::find(choices.begin(), choices.end(), value);
    return it == choices.end() ? 0 : static_cast<int>(it - choices.begin());
}

// Nearest choice to `value` among integers.
int Snap(const std::vector<int>& choices, int value) {
    int best = choices.front();
    for (int c : choices) {
        if (std::abs(c - value) < std::abs(best - value)) best = c;
    }
    return best;
}

template <typename T>
T SnapEnum(const std::vector<T>& choices, T value) {
    return std::find(choices.begin(), choices.end(), value) == choices.end() ? choices.front()
                                                                             : value;
}

// Reals carry three significant digits, so they survive encode/decode exactly.
double Round3(double v) {
    if (v == 0.0 || !std::isfinite(v)) return 0.0;
    const double scale = std::pow(10.0, std::floor(std::log10(std::fabs(v))) - 2);
    return std::round(v / scale) * scale;
}
double NormaliseReal(double v, const RealRange& r) { return std::clamp(Round3(v), r.min, r.max); }

// ---------------------------------------------------------------- validation

void CheckRange(const IntRange& r, int lo, int hi, const std::string& field) {
    if (r.min < lo) throw InvalidArgument("must be >= " + std::to_string(lo), field + ".min");
    if (r.max < r.min) {
        throw InvalidArgument("must be >= min (" + std::to_string(r.min) + ")", field + ".max");
    }
    if (r.max > hi) throw InvalidArgument("must be <= " + std::to_string(hi), field + ".max");
}

void CheckReal(const RealRange& r, double lo, double hi, const std::string& field) {
    if (!(r.min >= lo)) throw InvalidArgument("must be >= " + std::to_string(lo), field + ".min");
    if (!(r.max >= r.min)) throw InvalidArgument("must be >= min", field + ".max");
    if (!(r.max <= hi)) throw InvalidArgument("must be <= " + std::to_string(hi), field + ".max");
    if (r.log && r.min <= 0) throw InvalidArgument("a log scale needs min > 0", field + ".min");
}

template <typename T>
void CheckChoices(const std::vector<T>& v, const std::string& field) {
    if (v.empty()) throw InvalidArgument("needs at least one choice", field);
    for (size_t i = 0; i < v.size(); ++i) {
        if (std::find(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v[i]) !=
            v.begin() + static_cast<std::ptrdiff_t>(i)) {
            throw InvalidArgument("lists a choice twice", field);
        }
    }
}

// ---------------------------------------------------------------- encoding

// Walks a Point's genes in a fixed order, either writing each gene into
// [0, 1] (encode) or reading it back (decode). One walk for both directions
// keeps them in step.
class Codec {
  public:
    explicit Codec(std::vector<double>* out) : out_(out) {}
    explicit Codec(const std::vector<double>* in) : in_(in) {}
    bool decoding() const { return in_ != nullptr; }

    int Cat(int index, int choices, bool active = true) {
        const double u = Next((index + 0.5) / choices, active && choices > 1);
        return std::min(static_cast<int>(u * choices), choices - 1);
    }
    int Int(int v, const IntRange& r, bool log, bool active = true) {
        if (r.min == r.max) {
            Next(0.5, false);
            return r.min;
        }
        if (!log) return r.min + Cat(v - r.min, r.max - r.min + 1, active);
        const double lo = std::log(r.min), hi = std::log(r.max);
        const double u = Next((std::log(std::max(v, 1)) - lo) / (hi - lo), active);
        return std::clamp(static_cast<int>(std::lround(std::exp(lo + u * (hi - lo)))), r.min,
                          r.max);
    }
    double Real(double v, const RealRange& r, bool active = true) {
        if (r.min == r.max) {
            Next(0.5, false);
            return r.min;
        }
        if (r.log) {
            const double lo = std::log(r.min), hi = std::log(r.max);
            return std::exp(lo + Next((std::log(v) - lo) / (hi - lo), active) * (hi - lo));
        }
        return r.min + Next((v - r.min) / (r.max - r.min), active) * (r.max - r.min);
    }
    void Skip(int n) {
        for (int i = 0; i < n; ++i) Next(0.5, false);
    }
    // Per dimension: whether it matters for this point and has more than one value.
    const std::vector<bool>& active() const { return active_; }

  private:
    double Next(double value, bool active) {
        active_.push_back(active);
        if (in_ != nullptr) {
            const double u = pos_ < in_->size() ? (*in_)[pos_] : 0.5;
            ++pos_;
            return std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.5;
        }
        const double u = std::clamp(value, 0.0, 1.0);
        out_->push_back(u);
        return u;
    }
    std::vector<double>* out_ = nullptr;
    const std::vector<double>* in_ = nullptr;
    size_t pos_ = 0;
    std::vector<bool> active_;
};

constexpr int kBlockDims = 7;
constexpr int kDenseDims = 2;

void Walk(const SearchSpace& s, Point& p, Codec& c) {
    const auto bits_count = static_cast<int>(s.weight_bits.size());
    const int n = c.Int(static_cast<int>(p.blocks.size()), s.blocks, false);
    if (c.decoding()) p.blocks.resize(static_cast<size_t>(n));
    for (int slot = 0; slot < s.blocks.max; ++slot) {
        if (slot >= n) {
            c.Skip(kBlockDims);
            continue;
        }
        Block& b = p.blocks[static_cast<size_t>(slot)];
        b.kind = s.block_kinds[static_cast<size_t>(
            c.Cat(IndexOf(s.block_kinds, b.kind), static_cast<int>(s.block_kinds.size())))];
        b.channels = c.Int(b.channels, s.channels, true);
        b.kernel = s.kernel_sizes[static_cast<size_t>(
            c.Cat(IndexOf(s.kernel_sizes, b.kernel), static_cast<int>(s.kernel_sizes.size())))];
        b.down = s.downsampling[static_cast<size_t>(
            c.Cat(IndexOf(s.downsampling, b.down), static_cast<int>(s.downsampling.size())))];
        b.residual = c.Cat(b.residual ? 1 : 0, s.allow_residual ? 2 : 1) == 1;
        b.expansion = s.expansions[static_cast<size_t>(
            c.Cat(IndexOf(s.expansions, b.expansion), static_cast<int>(s.expansions.size()),
                  b.kind == BlockKind::kInvertedBottleneck))];
        b.bits =
            s.weight_bits[static_cast<size_t>(c.Cat(IndexOf(s.weight_bits, b.bits), bits_count))];
    }
    p.head = s.heads[static_cast<size_t>(
        c.Cat(IndexOf(s.heads, p.head), static_cast<int>(s.heads.size())))];
    const int d = c.Int(static_cast<int>(p.dense.size()), s.dense_layers, false);
    if (c.decoding()) p.dense.resize(static_cast<size_t>(d));
    for (int slot = 0; slot < s.dense_layers.max; ++slot) {
        if (slot >= d) {
            c.Skip(kDenseDims);
            continue;
        }
        Hidden& h = p.dense[static_cast<size_t>(slot)];
        h.units = c.Int(h.units, s.dense_units, true);
        h.bits =
            s.weight_bits[static_cast<size_t>(c.Cat(IndexOf(s.weight_bits, h.bits), bits_count))];
    }
    p.classifier_bits = s.weight_bits[static_cast<size_t>(
        c.Cat(IndexOf(s.weight_bits, p.classifier_bits), bits_count))];
    p.pruning = s.pruning_methods[static_cast<size_t>(
        c.Cat(IndexOf(s.pruning_methods, p.pruning), static_cast<int>(s.pruning_methods.size())))];
    p.target_sparsity =
        c.Real(p.target_sparsity, s.target_sparsity, p.pruning != PruningMethod::kNone);
    p.optimizer = s.optimizers[static_cast<size_t>(
        c.Cat(IndexOf(s.optimizers, p.optimizer), static_cast<int>(s.optimizers.size())))];
    p.learning_rate = c.Real(p.learning_rate, s.learning_rate);
    p.weight_decay = c.Real(p.weight_decay, s.weight_decay);
    p.epochs = c.Int(p.epochs, s.epochs, false);
    p.batch_size = s.batch_sizes[static_cast<size_t>(
        c.Cat(IndexOf(s.batch_sizes, p.batch_size), static_cast<int>(s.batch_sizes.size())))];
    p.dnas = c.Cat(p.dnas ? 1 : 0, s.dnas ? 2 : 1) == 1;
}

// The output channels of the input of each block, and its spatial size, as
// BuildModel lays the blocks out.
struct Flow {
    int h, w, c;
};

Flow After(const Flow& in, const Block& b) {
    Flow out = in;
    out.c = b.channels;
    if (b.down == Downsample::kStride) {
        out.h = (in.h + 1) / 2;
        out.w = (in.w + 1) / 2;
    } else if (b.down == Downsample::kMaxPool || b.down == Downsample::kAvgPool) {
        out.h = in.h / 2;
        out.w = in.w / 2;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------- space I/O

void ValidateSpace(const SearchSpace& s, const std::string& prefix) {
    const std::string p = prefix.empty() ? "" : prefix + ".";
    if (s.input.h < 1 || s.input.w < 1 || s.input.c < 1 || s.input.h > kMaxSpatial ||
        s.input.w > kMaxSpatial || s.input.c > kMaxChannels) {
        throw InvalidArgument("dimensions must be between 1 and 65535", p + "input");
    }
    if (s.classes < 2 || s.classes > kMaxChannels) {
        throw InvalidArgument("must be between 2 and 65535", p + "classes");
    }
    CheckRange(s.blocks, 0, 16, p + "blocks");
    CheckChoices(s.block_kinds, p + "block_kinds");
    CheckRange(s.channels, 1, 4096, p + "channels");
    CheckChoices(s.kernel_sizes, p + "kernel_sizes");
    for (int k : s.kernel_sizes) {
        if (k < 1 || k > 15) throw InvalidArgument("must be between 1 and 15", p + "kernel_sizes");
    }
    CheckChoices(s.downsampling, p + "downsampling");
    CheckChoices(s.expansions, p + "expansions");
    for (int e : s.expansions) {
        if (e < 1 || e > 8) throw InvalidArgument("must be between 1 and 8", p + "expansions");
    }
    CheckChoices(s.heads, p + "heads");
    CheckRange(s.dense_layers, 0, 2, p + "dense_layers");
    CheckRange(s.dense_units, 1, 4096, p + "dense_units");
    CheckChoices(s.weight_bits, p + "weight_bits");
    for (int b : s.weight_bits) {
        if (b != 8 && b != 4) throw InvalidArgument("must be 8 or 4", p + "weight_bits");
    }
    CheckChoices(s.pruning_methods, p + "pruning.methods");
    CheckReal(s.target_sparsity, 0.0, 0.99, p + "pruning.target_sparsity");
    CheckChoices(s.optimizers, p + "training.optimizers");
    CheckReal(s.learning_rate, 1e-6, 10.0, p + "training.learning_rate");
    CheckReal(s.weight_decay, 0.0, 1.0, p + "training.weight_decay");
    CheckRange(s.epochs, 1, 1000, p + "training.epochs");
    CheckChoices(s.batch_sizes, p + "training.batch_sizes");
    for (int b : s.batch_sizes) {
        if (b < 1 || b > 65536) {
            throw InvalidArgument("must be between 1 and 65536", p + "training.batch_sizes");
        }
    }
}

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
                                                                          : v1::PRUNING_CHANNEL);
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
}

// ---------------------------------------------------------------- points

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
    return j.dump();
}

Point Normalize(const SearchSpace& s, Point p) {
    if (static_cast<int>(p.blocks.size()) < s.blocks.min) {
        Block fill;
        fill.kind = s.block_kinds.front();
        fill.channels = s.channels.min;
        fill.kernel = s.kernel_sizes.front();
        fill.down = s.downsampling.front();
        fill.expansion = s.expansions.front();
        fill.bits = s.weight_bits.front();
        p.blocks.resize(static_cast<size_t>(s.blocks.min), fill);
    }
    if (static_cast<int>(p.blocks.size()) > s.blocks.max)
        p.blocks.resize(static_cast<size_t>(s.blocks.max));
    Flow flow{s.input.h, s.input.w, s.input.c};
    for (Block& b : p.blocks) {
        b.kind = SnapEnum(s.block_kinds, b.kind);
        b.channels = std::clamp(b.channels, s.channels.min, s.channels.max);
        b.kernel = Snap(s.kernel_sizes, b.kernel);
        b.down = SnapEnum(s.downsampling, b.down);
        if (b.down != Downsample::kNone && (flow.h < 2 || flow.w < 2)) {
            b.down = std::find(s.downsampling.begin(), s.downsampling.end(), Downsample::kNone) !=
                             s.downsampling.end()
                         ? Downsample::kNone
                         : Downsample::kStride;  // stride 2 on 1x1 stays 1x1 with SAME padding
        }
        b.residual =
            b.residual && s.allow_residual && b.down != Downsample::kStride && b.channels == flow.c;
        b.expansion = b.kind == BlockKind::kInvertedBottleneck ? Snap(s.expansions, b.expansion)
                                                               : s.expansions.front();
        b.bits = Snap(s.weight_bits, b.bits);
        flow = After(flow, b);
    }
    p.head = SnapEnum(s.heads, p.head);
    // The runtime's dense layer takes at most 65535 inputs: a larger flatten
    // becomes global pooling where the space allows it (else the IR is
    // invalid and the optimiser counts the point as infeasible).
    const bool has_gap =
        std::find(s.heads.begin(), s.heads.end(), HeadKind::kGlobalAvgPool) != s.heads.end();
    if (p.head == HeadKind::kFlatten && int64_t{flow.h} * flow.w * flow.c > 65535 && has_gap) {
        p.head = HeadKind::kGlobalAvgPool;
    }
    p.dense.resize(static_cast<size_t>(std::clamp(static_cast<int>(p.dense.size()),
                                                  s.dense_layers.min, s.dense_layers.max)),
                   Hidden{s.dense_units.min, s.weight_bits.front()});
    for (Hidden& h : p.dense) {
        h.units = std::clamp(h.units, s.dense_units.min, s.dense_units.max);
        h.bits = Snap(s.weight_bits, h.bits);
    }
    p.classifier_bits = Snap(s.weight_bits, p.classifier_bits);
    p.pruning = SnapEnum(s.pruning_methods, p.pruning);
    p.target_sparsity = p.pruning == PruningMethod::kNone
                            ? s.target_sparsity.min
                            : NormaliseReal(p.target_sparsity, s.target_sparsity);
    p.optimizer = SnapEnum(s.optimizers, p.optimizer);
    p.learning_rate = NormaliseReal(p.learning_rate, s.learning_rate);
    p.weight_decay = NormaliseReal(p.weight_decay, s.weight_decay);
    p.epochs = std::clamp(p.epochs, s.epochs.min, s.epochs.max);
    p.batch_size = Snap(s.batch_sizes, p.batch_size);
    p.dnas = p.dnas && s.dnas;
    return p;
}

Model BuildModel(const SearchSpace& s, const Point& p, const std::string& name) {
    Model m;
    m.name = name;
    m.input = s.input;
    Flow flow{s.input.h, s.input.w, s.input.c};
    std::string block_input = "input";
    auto add = [&m](Layer l) {
        m.layers.push_back(std::move(l));
        return m.layers.back().id;
    };
    auto conv = [](std::string id, int filters, int k, int stride, Activation act, int bits) {
        Layer l;
        l.id = std::move(id);
        l.op = Op::kConv2d;
        l.filters = filters;
        l.kernel = {k, k};
        l.stride = {stride, stride};
        l.padding = k == 1 ? Padding::kValid : Padding::kSame;
        l.activation = act;
        if (bits != 8) l.weight_bits = bits;
        return l;
    };
    auto depthwise = [](std::string id, int k, int stride, Activation act, int bits) {
        Layer l;
        l.id = std::move(id);
        l.op = Op::kDepthwiseConv2d;
        l.kernel = {k, k};
        l.stride = {stride, stride};
        l.padding = Padding::kSame;
        l.activation = act;
        if (bits != 8) l.weight_bits = bits;
        return l;
    };
    for (size_t i = 0; i < p.blocks.size(); ++i) {
        const Block& b = p.blocks[i];
        const std::string pre = "b" + std::to_string(i) + "_";
        const int stride = b.down == Downsample::kStride ? 2 : 1;
        // The last layer of a residual block leaves its activation to the add.
        const bool res = b.residual;
        std::string last;
        switch (b.kind) {
            case BlockKind::kConv:
                last = add(conv(pre + "conv", b.channels, b.kernel, stride,
                                res ? Activation::kNone : Activation::kRelu, b.bits));
                break;
            case BlockKind::kDepthwiseSeparable:
                add(depthwise(pre + "dw", b.kernel, stride, Activation::kRelu, b.bits));
                last = add(conv(pre + "pw", b.channels, 1, 1,
                                res ? Activation::kNone : Activation::kRelu, b.bits));
                break;
            case BlockKind::kInvertedBottleneck:
                add(conv(pre + "expand", flow.c * b.expansion, 1, 1, Activation::kRelu6, b.bits));
                add(depthwise(pre + "dw", b.kernel, stride, Activation::kRelu6, b.bits));
                last = add(conv(pre + "project", b.channels, 1, 1, Activation::kNone, b.bits));
                break;
        }
        if (res) {
            Layer sum;
            sum.id = pre + "add";
            sum.op = Op::kAdd;
            sum.inputs = {block_input, last};
            sum.activation =
                b.kind == BlockKind::kInvertedBottleneck ? Activation::kNone : Activation::kRelu;
            last = add(std::move(sum));
        }
        if (b.down == Downsample::kMaxPool || b.down == Downsample::kAvgPool) {
            Layer pool;
            pool.id = pre + "pool";
            pool.op = b.down == Downsample::kMaxPool ? Op::kMaxPool : Op::kAvgPool;
            pool.pool = {2, 2};
            pool.stride = {2, 2};
            pool.padding = Padding::kValid;
            last = add(std::move(pool));
        }
        block_input = last;
        flow = After(flow, b);
    }
    Layer head;
    head.op = p.head == HeadKind::kGlobalAvgPool ? Op::kGlobalAvgPool : Op::kFlatten;
    head.id = p.head == HeadKind::kGlobalAvgPool ? "gap" : "flatten";
    add(std::move(head));
    auto dense = [](std::string id, int units, Activation act, int bits) {
        Layer l;
        l.id = std::move(id);
        l.op = Op::kDense;
        l.units = units;
        l.activation = act;
        if (bits != 8) l.weight_bits = bits;
        return l;
    };
    for (size_t j = 0; j < p.dense.size(); ++j) {
        add(dense("fc" + std::to_string(j), p.dense[j].units, Activation::kRelu, p.dense[j].bits));
    }
    add(dense("logits", s.classes, Activation::kNone, p.classifier_bits));
    return m;
}

int EncodingSize(const SearchSpace& s) {
    return 1 + s.blocks.max * kBlockDims + 1 + 1 + s.dense_layers.max * kDenseDims + 1 + 2 + 5 + 1;
}

std::vector<double> Encode(const SearchSpace& s, const Point& point) {
    std::vector<double> u;
    u.reserve(static_cast<size_t>(EncodingSize(s)));
    Point copy = point;
    Codec codec(&u);
    Walk(s, copy, codec);
    return u;
}

Point Decode(const SearchSpace& s, const std::vector<double>& u) {
    Point p;
    Codec codec(&u);
    Walk(s, p, codec);
    return Normalize(s, std::move(p));
}

Point Sample(const SearchSpace& s, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> u(static_cast<size_t>(EncodingSize(s)));
    for (double& x : u) x = unit(rng);
    return Decode(s, u);
}

Point Mutate(const SearchSpace& s, const Point& point, std::mt19937_64& rng) {
    std::vector<double> u;
    Point copy = point;
    Codec codec(&u);
    Walk(s, copy, codec);
    // Dimensions that change this point: its active genes, and the block and
    // dense-layer counts.
    std::vector<size_t> dims;
    for (size_t i = 0; i < u.size(); ++i) {
        if (codec.active()[i]) dims.push_back(i);
    }
    const size_t dense_count_dim = 1 + static_cast<size_t>(s.blocks.max) * kBlockDims + 1;
    if (s.blocks.min < s.blocks.max) dims.push_back(0);
    if (s.dense_layers.min < s.dense_layers.max) dims.push_back(dense_count_dim);
    if (dims.empty()) return point;  // a space of one point
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> nudge(0.0, 0.15);
    for (int attempt = 0; attempt < 64; ++attempt) {
        std::vector<double> v = u;
        const size_t d =
            dims[static_cast<size_t>(unit(rng) * static_cast<double>(dims.size())) % dims.size()];
        v[d] = unit(rng) < 0.5 ? unit(rng) : std::clamp(v[d] + nudge(rng), 0.0, 1.0);
        Point child = Decode(s, v);
        if (!(child == point)) return child;
    }
    return Sample(s, rng);
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

namespace {

// "b3_conv" -> (3, "conv"); other ids -> (-1, id).
std::pair<int, std::string> SplitId(const std::string& id) {
    if (id.size() > 2 && id[0] == 'b' && std::isdigit(static_cast<unsigned char>(id[1]))) {
        const size_t us = id.find('_');
        if (us != std::string::npos) return {std::stoi(id.substr(1, us - 1)), id.substr(us + 1)};
    }
    return {-1, id};
}

// The last weighted layer of block `i` in a model built by BuildModel.
std::string BlockOutputLayer(const Block& b, size_t i) {
    const std::string pre = "b" + std::to_string(i) + "_";
    switch (b.kind) {
        case BlockKind::kConv:
            return pre + "conv";
        case BlockKind::kDepthwiseSeparable:
            return pre + "pw";
        case BlockKind::kInvertedBottleneck:
            return pre + "project";
    }
    return pre;
}

// Maps every child layer to its parent layer; `widened` names the child layer
// whose output channels follow `channel_map` (empty: none), `inserted` the
// block that is new (-1: none).
std::vector<LayerMapping> MapLayers(const SearchSpace& s, const Point& parent, const Point& child,
                                    int inserted, const std::string& widened,
                                    const std::vector<int>& channel_map) {
    const Graph pg = Analyze(BuildModel(s, parent));
    const Graph cg = Analyze(BuildModel(s, child));
    std::map<std::string, int> parent_index;
    for (int i = 0; i < pg.num_layers(); ++i)
        parent_index[pg.model.layers[static_cast<size_t>(i)].id] = i;

    // Per child tensor: child channel -> parent channel (empty: identity).
    std::vector<std::vector<int>> tmap(static_cast<size_t>(cg.num_layers()) + 1);
    std::vector<LayerMapping> out;
    for (int i = 0; i < cg.num_layers(); ++i) {
        const Layer& l = cg.model.layers[static_cast<size_t>(i)];
        LayerMapping m;
        m.child_layer = i;
        auto [block, role] = SplitId(l.id);
        std::string parent_id = l.id;
        if (block >= 0 && inserted >= 0) {
            if (block == inserted) parent_id.clear();
            if (block > inserted) parent_id = "b" + std::to_string(block - 1) + "_" + role;
        }
        const auto found = parent_id.empty() ? parent_index.end() : parent_index.find(parent_id);
        const std::vector<int>& in =
            tmap[static_cast<size_t>(cg.inputs[static_cast<size_t>(i)][0])];
        std::vector<int> produced;  // this layer's output map
        if (found == parent_index.end()) {
            m.kind =
                block == inserted && inserted >= 0 ? MorphismKind::kIdentity : MorphismKind::kFresh;
            m.in_channel_map = in;
            produced = in;
            if (l.op == Op::kConv2d || l.op == Op::kDense) produced.clear();
            out.push_back(std::move(m));
            tmap[static_cast<size_t>(i) + 1] = std::move(produced);
            continue;
        }
        m.parent_layer = found->second;
        const Layer& pl = pg.model.layers[static_cast<size_t>(m.parent_layer)];
        switch (l.op) {
            case Op::kConv2d:
            case Op::kDense:
                m.in_channel_map = in;
                if (l.id == widened) produced = channel_map;
                break;
            case Op::kDepthwiseConv2d:
            case Op::kMaxPool:
            case Op::kAvgPool:
            case Op::kGlobalAvgPool:
                produced = in;
                if (l.op == Op::kDepthwiseConv2d) m.in_channel_map = in;
                break;
            case Op::kFlatten:
                if (!in.empty()) {
                    const Shape& x = cg.input_of(i);
                    const Shape& px = pg.input_of(m.parent_layer);
                    for (int pos = 0; pos < x.h * x.w; ++pos) {
                        for (int ch = 0; ch < x.c; ++ch)
                            produced.push_back(pos * px.c + in[static_cast<size_t>(ch)]);
                    }
                }
                break;
            case Op::kAdd:
                produced = in;
                break;
        }
        m.out_channel_map = produced;
        if (l.op == Op::kFlatten || l.op == Op::kAdd || l.op == Op::kMaxPool ||
            l.op == Op::kAvgPool || l.op == Op::kGlobalAvgPool) {
            m.out_channel_map.clear();  // no weights: the map only travels on
        }
        if (l.kernel[0] > pl.kernel[0]) {
            m.kind = MorphismKind::kGrowKernel;
        } else if (!m.in_channel_map.empty() || !m.out_channel_map.empty()) {
            m.kind = MorphismKind::kWiden;
        } else {
            m.kind = MorphismKind::kCopy;
        }
        tmap[static_cast<size_t>(i) + 1] = std::move(produced);
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace

std::optional<Morphed> Morph(const SearchSpace& s, const Point& parent, std::mt19937_64& rng) {
    std::vector<std::function<std::optional<Morphed>()>> options;
    const size_t n = parent.blocks.size();

    // Widen block i: its channels grow, the new ones copying existing ones
    // (Net2Net). Not where a residual ties the channel count.
    for (size_t i = 0; i < n; ++i) {
        const Block& b = parent.blocks[i];
        // An inverted bottleneck after it sizes its expansion by its input: not a pure widening.
        const bool tied =
            b.residual ||
            (i + 1 < n && (parent.blocks[i + 1].residual ||
                           parent.blocks[i + 1].kind == BlockKind::kInvertedBottleneck));
        if (tied || b.channels >= s.channels.max) continue;
        options.push_back([&, i]() -> std::optional<Morphed> {
            Morphed m;
            m.child = parent;
            Block& cb = m.child.blocks[i];
            const int old = cb.channels;
            std::uniform_real_distribution<double> factor(1.25, 2.0);
            cb.channels = std::min(
                s.channels.max, std::max(old + 1, static_cast<int>(std::ceil(old * factor(rng)))));
            m.child = Normalize(s, m.child);
            if (m.child.blocks[i].channels <= old) return std::nullopt;
            std::vector<int> map(static_cast<size_t>(m.child.blocks[i].channels));
            std::uniform_int_distribution<int> pick(0, old - 1);
            for (size_t k = 0; k < map.size(); ++k)
                map[k] = k < static_cast<size_t>(old) ? static_cast<int>(k) : pick(rng);
            m.operation = "widen b" + std::to_string(i);
            m.layers =
                MapLayers(s, parent, m.child, -1, BlockOutputLayer(m.child.blocks[i], i), map);
            return m;
        });
    }
    // Grow the kernel of block i to the next size in the space.
    for (size_t i = 0; i < n; ++i) {
        const Block& b = parent.blocks[i];
        int next = 0;
        for (int k : s.kernel_sizes) {
            if (k > b.kernel && (next == 0 || k < next)) next = k;
        }
        if (next == 0) continue;
        options.push_back([&, i, next]() -> std::optional<Morphed> {
            Morphed m;
            m.child = parent;
            m.child.blocks[i].kernel = next;
            m.child = Normalize(s, m.child);
            m.operation = "grow-kernel b" + std::to_string(i);
            m.layers = MapLayers(s, parent, m.child, -1, "", {});
            return m;
        });
    }
    // Insert, after block i (or first), a block that can start as the identity:
    // a residual block whose last layer starts at zero, or without residuals a
    // convolution with the identity kernel.
    if (static_cast<int>(n) < s.blocks.max) {
        Flow flow{s.input.h, s.input.w, s.input.c};
        for (size_t at = 0; at <= n; ++at) {
            if (at > 0) flow = After(flow, parent.blocks[at - 1]);
            if (flow.c < s.channels.min || flow.c > s.channels.max) continue;
            const int channels = flow.c;
            options.push_back([&, at, channels]() -> std::optional<Morphed> {
                Block fresh;
                const bool has_ib =
                    std::find(s.block_kinds.begin(), s.block_kinds.end(),
                              BlockKind::kInvertedBottleneck) != s.block_kinds.end();
                fresh.kind = s.allow_residual && has_ib
                                 ? BlockKind::kInvertedBottleneck
                                 : (std::find(s.block_kinds.begin(), s.block_kinds.end(),
                                              BlockKind::kConv) != s.block_kinds.end()
                                        ? BlockKind::kConv
                                        : s.block_kinds.front());
                fresh.channels = channels;
                fresh.kernel = *std::min_element(s.kernel_sizes.begin(), s.kernel_sizes.end());
                fresh.down = std::find(s.downsampling.begin(), s.downsampling.end(),
                                       Downsample::kNone) != s.downsampling.end()
                                 ? Downsample::kNone
                                 : s.downsampling.front();
                if (fresh.down != Downsample::kNone) return std::nullopt;
                fresh.residual = s.allow_residual;
                fresh.expansion = s.expansions.front();
                fresh.bits =
                    std::find(s.weight_bits.begin(), s.weight_bits.end(), 8) != s.weight_bits.end()
                        ? 8
                        : s.weight_bits.front();
                Morphed m;
                m.child = parent;
                m.child.blocks.insert(m.child.blocks.begin() + static_cast<std::ptrdiff_t>(at),
                                      fresh);
                m.child = Normalize(s, m.child);
                if (m.child.blocks.size() != n + 1 || !(m.child.blocks[at] == fresh))
                    return std::nullopt;
                // The block after the new one must keep its own shape rules.
                for (size_t k = 0; k < n; ++k) {
                    if (!(m.child.blocks[k + (k >= at ? 1 : 0)] == parent.blocks[k]))
                        return std::nullopt;
                }
                m.operation =
                    at == 0 ? "deepen at the start" : "deepen after b" + std::to_string(at - 1);
                m.layers = MapLayers(s, parent, m.child, static_cast<int>(at), "", {});
                return m;
            });
        }
    }
    std::shuffle(options.begin(), options.end(), rng);
    for (auto& option : options) {
        if (auto m = option()) return m;
    }
    return std::nullopt;
}

}  // namespace hilnas::arch
