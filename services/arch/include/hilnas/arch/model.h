// The model IR: a network as a directed acyclic graph of layers over NHWC
// tensors (batch 1, so shapes are [H, W, C]). One description shared by every
// part of hilnas. JSON is its human form, hilnas.v1.Model its wire form; both
// round-trip losslessly through Model.
//
// Layers are listed in execution order. A layer reads the previous layer
// unless `inputs` names layer ids ("prev" is the previous layer, "input" the
// model input). Tensors are numbered: 0 is the model input, i + 1 the output
// of layer i.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hilnas::v1 {
class Model;
}

namespace hilnas::arch {

enum class Op {
    kConv2d,
    kDepthwiseConv2d,
    kMaxPool,
    kAvgPool,
    kGlobalAvgPool,
    kFlatten,
    kDense,
    kAdd
};
enum class Activation { kNone, kRelu, kRelu6 };
enum class Padding { kSame, kValid };

std::string_view OpName(Op op);                 // "conv2d", ...
std::string_view ActivationName(Activation a);  // "none", "relu", "relu6"
std::string_view PaddingName(Padding p);        // "same", "valid"

// The largest height or width, and the most channels, of any tensor (and so
// of a model's input, and of a dense layer's units).
inline constexpr int kMaxSpatial = 65535;
inline constexpr int kMaxChannels = 65535;

struct Shape {
    int h = 0;
    int w = 0;
    int c = 0;
    int64_t elements() const { return int64_t{h} * w * c; }
    bool operator==(const Shape&) const = default;
};

struct Layer {
    std::string id;  // optional; unique when set
    Op op = Op::kConv2d;
    std::vector<std::string> inputs;  // empty: the previous layer
    int filters = 0;                  // conv2d
    std::array<int, 2> kernel{0, 0};  // conv2d, depthwise_conv2d
    std::array<int, 2> stride{1, 1};  // conv2d, depthwise_conv2d, pools (pools default to `pool`)
    Padding padding = Padding::kValid;
    int depth_multiplier = 1;       // depthwise_conv2d
    std::array<int, 2> pool{0, 0};  // max_pool, avg_pool
    int units = 0;                  // dense
    Activation activation = Activation::kNone;
    std::optional<int> weight_bits;  // 8 (default) or 4
    std::optional<double> sparsity;  // fraction of zero weights in [0, 1)
    // The exact count of non-zero weights of the int8 (or int4) weights, as
    // the trainer's export quantised them; at most the layer's weights. It
    // decides whether the runtime stores them sparse (hilnas/arch/kernels.h).
    std::optional<int64_t> nonzero_weights;

    bool has_weights() const {
        return op == Op::kConv2d || op == Op::kDepthwiseConv2d || op == Op::kDense;
    }
    int bits() const { return weight_bits.value_or(8); }
    bool operator==(const Layer&) const = default;
};

struct Model {
    std::string name;
    Shape input;
    std::vector<Layer> layers;
    bool operator==(const Model&) const = default;
};

// A validated model with every tensor's shape and every layer's inputs resolved.
struct Graph {
    Model model;
    std::vector<Shape> tensors;               // [0] the input, [i + 1] layer i's output
    std::vector<std::vector<int>> inputs;     // per layer: the tensor numbers it reads
    std::vector<std::vector<int>> consumers;  // per tensor: the layers that read it

    int num_layers() const { return static_cast<int>(model.layers.size()); }
    const Shape& output(int layer) const { return tensors[static_cast<size_t>(layer) + 1]; }
    const Shape& input_of(int layer, int k = 0) const {
        return tensors[static_cast<size_t>(
            inputs[static_cast<size_t>(layer)][static_cast<size_t>(k)])];
    }
    // "layer 3 (d1)" or "layer 3" for messages.
    std::string LayerName(int layer) const;
};

// Validates `model` and infers every shape (TensorFlow's padding rules: SAME
// gives ceil(in / stride), VALID ceil((in - kernel + 1) / stride)). Throws
// InvalidArgument naming the layer and the field, e.g.
// "layer 3 (d1): kernel 9x9 larger than its 7x7 input" with field "layers[3].kernel".
Graph Analyze(const Model& model);

// JSON (the human form). FromJson throws InvalidArgument naming the offending
// field for anything malformed: unknown op or key, wrong type, bad value.
Model ModelFromJson(std::string_view json);
std::string ModelToJson(const Model& model, bool pretty = false);

// Protobuf (the wire form). FromProto throws InvalidArgument for unspecified enums.
void ModelToProto(const Model& model, v1::Model* out);
Model ModelFromProto(const v1::Model& proto);

// TensorFlow's SAME padding: the pad before (top or left) for one dimension.
int SamePadBefore(int in, int kernel, int stride);
// Output size of one spatial dimension; 0 or less means the window does not fit.
int OutputSize(int in, int kernel, int stride, Padding padding);

}  // namespace hilnas::arch
