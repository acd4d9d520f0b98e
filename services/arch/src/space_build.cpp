// A point's model: the IR that BuildModel lays out, block by block.
#include <string>

#include "space_internal.h"

namespace hilnas::arch {

namespace detail {

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

}  // namespace detail

using detail::After;
using detail::Flow;

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

}  // namespace hilnas::arch
