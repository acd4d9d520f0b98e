// The search space: SpArSe-like, parametric, configured per job.
//
// A Point is one candidate's genes: a stack of blocks (each a standard
// convolution, a depthwise-separable pair or an inverted bottleneck, with its
// channels, kernel, down-sampling, residual connection and weight bit width),
// a head (global pooling or flatten, then 0-2 hidden dense layers and the
// classifier), pruning and training settings. BuildModel turns it into the IR.
//
// Every Point the space hands out is canonical (Normalize): genes that cannot
// apply are set to one fixed value (a residual where shapes differ is off;
// an expansion outside an inverted bottleneck is the first choice; a flatten
// too wide for the runtime's dense layer becomes global pooling; ...), so
// Decode(Encode(p)) == p for every canonical p.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/arch/model.h"

namespace hilnas::v1 {
class SearchSpace;
}

namespace hilnas::arch {

enum class BlockKind { kConv, kDepthwiseSeparable, kInvertedBottleneck };
enum class Downsample { kNone, kStride, kMaxPool, kAvgPool };
enum class HeadKind { kGlobalAvgPool, kFlatten };
enum class PruningMethod { kNone, kSparseVd, kChannel, kBayesian };
enum class TrainOptimizer { kSgd, kAdamW };

struct IntRange {
    int min = 0;
    int max = 0;
    bool operator==(const IntRange&) const = default;
};
struct RealRange {
    double min = 0;
    double max = 0;
    bool log = false;
    bool operator==(const RealRange&) const = default;
};

struct SearchSpace {
    Shape input{28, 28, 1};
    int classes = 10;
    IntRange blocks{1, 4};
    std::vector<BlockKind> block_kinds{BlockKind::kConv, BlockKind::kDepthwiseSeparable};
    IntRange channels{4, 64};  // log-uniform
    std::vector<int> kernel_sizes{3, 5};
    std::vector<Downsample> downsampling{Downsample::kNone, Downsample::kStride,
                                         Downsample::kMaxPool};
    bool allow_residual = true;
    std::vector<int> expansions{2, 4};  // inverted bottleneck width factor
    std::vector<HeadKind> heads{HeadKind::kGlobalAvgPool, HeadKind::kFlatten};
    IntRange dense_layers{0, 1};
    IntRange dense_units{16, 128};  // log-uniform
    std::vector<int> weight_bits{8};
    std::vector<PruningMethod> pruning_methods{PruningMethod::kNone};
    RealRange target_sparsity{0.5, 0.9, false};
    std::vector<TrainOptimizer> optimizers{TrainOptimizer::kAdamW};
    RealRange learning_rate{1e-3, 1e-2, true};
    RealRange weight_decay{1e-5, 1e-3, true};
    IntRange epochs{3, 3};
    std::vector<int> batch_sizes{128};
    bool dnas = false;                       // when true, whether to run DNAS is a gene
    RealRange dnas_shrink{0.3, 0.9, false};  // and how far it shrinks the candidate

    bool operator==(const SearchSpace&) const = default;
};

// Checks ranges and choices; throws InvalidArgument naming the field under
// `prefix`, e.g. "search_space.blocks.max: must be >= min (1)".
void ValidateSpace(const SearchSpace& space, const std::string& prefix = "search_space");

// The wire form (hilnas.v1.SearchSpace) plus the dataset's shape and classes.
// Unset proto fields keep the defaults above. Validated; errors name the
// field under `prefix` as ValidateSpace's do. The one reader of a space: job
// specs and `hilnas arch sample` files (YAML, cli::SearchSpaceFromYaml) come
// through here.
SearchSpace SpaceFromProto(const v1::SearchSpace& proto, const Shape& input, int classes,
                           const std::string& prefix = "search_space");
void SpaceToProto(const SearchSpace& space, v1::SearchSpace* out);

struct Block {
    BlockKind kind = BlockKind::kConv;
    int channels = 8;
    int kernel = 3;
    Downsample down = Downsample::kNone;
    bool residual = false;
    int expansion = 2;
    int bits = 8;  // of every weighted layer in the block, depthwise included
    bool operator==(const Block&) const = default;
};

struct Hidden {
    int units = 32;
    int bits = 8;
    bool operator==(const Hidden&) const = default;
};

struct Point {
    std::vector<Block> blocks;
    HeadKind head = HeadKind::kGlobalAvgPool;
    std::vector<Hidden> dense;
    int classifier_bits = 8;
    PruningMethod pruning = PruningMethod::kNone;
    double target_sparsity = 0;
    TrainOptimizer optimizer = TrainOptimizer::kAdamW;
    double learning_rate = 1e-3;
    double weight_decay = 0;
    int epochs = 1;
    int batch_size = 128;
    bool dnas = false;
    double dnas_shrink = 0;  // with dnas: where its budgets sit, narrowest (0) to start (1)
    bool operator==(const Point&) const = default;
};

// A human-readable JSON object of the genes (for logs and `hilnas arch sample --genes`).
std::string PointToJson(const Point& point);

// The canonical form of `point` in `space` (see above). Genes outside the
// space are clamped or snapped to the nearest choice.
Point Normalize(const SearchSpace& space, Point point);

// The IR of a point. Layer ids are stable names: b<i>_conv, b<i>_dw, b<i>_pw,
// b<i>_expand, b<i>_project, b<i>_add, b<i>_pool, gap | flatten, fc<j>, logits.
Model BuildModel(const SearchSpace& space, const Point& point, const std::string& name = "");

// Uniform sampling (log-uniform for channels and units, and for log ranges).
Point Sample(const SearchSpace& space, std::mt19937_64& rng);

// A fixed-length encoding into [0, 1]^d for the GP, and back.
int EncodingSize(const SearchSpace& space);
std::vector<double> Encode(const SearchSpace& space, const Point& point);
// Any vector in [0, 1]^d (values outside are clamped) gives a canonical Point.
Point Decode(const SearchSpace& space, const std::vector<double>& u);

// One random local change (a gene resampled or nudged, a block added or removed).
// The result is canonical and differs from `point`.
Point Mutate(const SearchSpace& space, const Point& point, std::mt19937_64& rng);

// How the child's layers take the parent's weights (see hilnas.v1.LayerMapping).
enum class MorphismKind { kCopy, kWiden, kIdentity, kGrowKernel, kFresh };
std::string_view MorphismName(MorphismKind kind);

struct LayerMapping {
    int child_layer = 0;
    int parent_layer = -1;  // -1: none
    MorphismKind kind = MorphismKind::kCopy;
    // Child output channel k copies parent output channel out_channel_map[k];
    // empty means the identity. in_channel_map likewise for input channels
    // (for a dense layer after flatten: per flattened input element).
    std::vector<int> out_channel_map;
    std::vector<int> in_channel_map;
};

struct Morphed {
    Point child;
    std::string operation;  // "widen b1", "deepen after b0", "grow-kernel b2"
    std::vector<LayerMapping> layers;
};

// A function-preserving change of `parent` (network morphism): widen a block,
// insert an identity-initialisable block, or grow a kernel, with the mapping
// of every child layer to the parent's. nullopt when no morphism fits the
// space (e.g. everything is at its maximum).
std::optional<Morphed> Morph(const SearchSpace& space, const Point& parent, std::mt19937_64& rng);

}  // namespace hilnas::arch
