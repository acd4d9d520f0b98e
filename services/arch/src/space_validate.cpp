// The limits of a search space: ranges and choices, each refusal naming its field.
#include <algorithm>
#include <string>

#include "hilnas/arch/space.h"
#include "hilnas/common/errors.h"

namespace hilnas::arch {

namespace {

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

}  // namespace

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
    CheckReal(s.dnas_shrink, 0.05, 1.0, p + "dnas_shrink");
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

}  // namespace hilnas::arch
