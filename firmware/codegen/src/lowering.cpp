#include "lowering.h"

#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas_nn/nn_quant.h"

namespace hilnas::firmware {

namespace {

using arch::Op;

nn_dims Dims(const arch::Shape& s) { return nn_dims{1, s.h, s.w, s.c}; }

nn_activation Act(const v1::QuantizedLayer& q) {
    return nn_activation{q.activation_min(), q.activation_max()};
}

nn_tile Padding(const arch::Layer& l, const arch::Shape& x, const std::array<int, 2>& window) {
    if (l.padding == arch::Padding::kValid) return nn_tile{0, 0};
    return nn_tile{arch::SamePadBefore(x.w, window[1], l.stride[1]),
                   arch::SamePadBefore(x.h, window[0], l.stride[0])};
}

}  // namespace

Lowered Lower(const v1::Int8Model& model, bool in_place_layers, bool sparse_weights) {
    Lowered out;
    out.graph = artifact::ValidateArtifact(model);
    if (!sparse_weights) {
        for (arch::Layer& l : out.graph.model.layers) l.nonzero_weights.reset();
    }
    const arch::Graph& g = out.graph;
    out.plan =
        arch::PlanMemory(g, arch::PlanStrategy::kBest, arch::RuntimeScratchBytes, in_place_layers);
    out.input_offset = out.plan.tensor_offset(0);
    out.output_offset = out.plan.tensor_offset(g.num_layers());
    out.input_bytes = g.tensors.front().elements();
    out.output_bytes = g.tensors.back().elements();
    auto quant_of = [&](int tensor) -> const v1::TensorQuant& {
        return tensor == 0 ? model.input() : model.layers(tensor - 1).output();
    };
    for (int i = 0; i < g.num_layers(); ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        const v1::QuantizedLayer& q = model.layers(i);
        const auto& ins = g.inputs[static_cast<size_t>(i)];
        const arch::Shape& x = g.input_of(i);
        const arch::Shape& y = g.output(i);
        const v1::TensorQuant& qin = quant_of(ins[0]);
        KernelCall c;
        c.layer = i;
        c.kernel = out.plan.kernels[static_cast<size_t>(i)];  // KernelOf's, or in place
        c.input = Dims(x);
        c.output = Dims(y);
        c.input_offset = out.plan.tensor_offset(ins[0]);
        c.output_offset = out.plan.tensor_offset(i + 1);
        if (const int s = out.plan.scratch_buffer[static_cast<size_t>(i)]; s >= 0) {
            c.scratch_offset = out.plan.buffers[static_cast<size_t>(s)].offset;
            c.scratch_bytes = static_cast<int32_t>(out.plan.buffers[static_cast<size_t>(s)].size);
        }
        switch (l.op) {
            case Op::kConv2d: {
                c.filter = nn_dims{l.filters, l.kernel[0], l.kernel[1], x.c};
                c.conv = nn_conv_params{-qin.zero_point(), q.output().zero_point(),
                                        nn_tile{l.stride[1], l.stride[0]}, Padding(l, x, l.kernel),
                                        Act(q)};
                break;
            }
            case Op::kDepthwiseConv2d:
                c.filter = nn_dims{1, l.kernel[0], l.kernel[1], x.c * l.depth_multiplier};
                c.dw = nn_dw_conv_params{-qin.zero_point(),       q.output().zero_point(),
                                         l.depth_multiplier,      nn_tile{l.stride[1], l.stride[0]},
                                         Padding(l, x, l.kernel), Act(q)};
                break;
            case Op::kMaxPool:
            case Op::kAvgPool:
                c.filter = nn_dims{1, l.pool[0], l.pool[1], 1};
                c.pool = nn_pool_params{nn_tile{l.stride[1], l.stride[0]}, Padding(l, x, l.pool),
                                        Act(q)};
                break;
            case Op::kGlobalAvgPool:
                c.global_pool =
                    nn_global_pool_params{-qin.zero_point(), q.output().zero_point(), Act(q)};
                c.global_quant = nn_per_tensor_quant{q.pool_multiplier(), q.pool_shift()};
                break;
            case Op::kFlatten:
                break;
            case Op::kDense: {
                const int in = static_cast<int>(x.elements());
                c.input = nn_dims{1, 1, 1, in};
                c.filter = nn_dims{l.units, 1, 1, in};
                c.fc = nn_fc_params{-qin.zero_point(), q.output().zero_point(), Act(q)};
                break;
            }
            case Op::kAdd: {
                c.input2_offset = out.plan.tensor_offset(ins[1]);
                const v1::TensorQuant& qin2 = quant_of(ins[1]);
                const v1::AddQuant& a = q.add();
                c.add = nn_add_params{-qin.zero_point(),
                                      a.input1_multiplier(),
                                      a.input1_shift(),
                                      -qin2.zero_point(),
                                      a.input2_multiplier(),
                                      a.input2_shift(),
                                      a.left_shift(),
                                      q.output().zero_point(),
                                      a.output_multiplier(),
                                      a.output_shift(),
                                      Act(q)};
                break;
            }
        }
        if (arch::IsSparseKernel(c.kernel)) {
            const std::string& w = q.weights();
            const std::vector<int8_t> dense(w.begin(), w.end());
            c.sparse_weights.resize(static_cast<size_t>(arch::SparseWeightBytes(g, i)));
            if (nn_pack_sparse_s8(dense.data(), c.filter.n, c.filter.h * c.filter.w * c.filter.c,
                                  c.sparse_weights.data()) != NN_OK) {
                throw Internal(g.LayerName(i) + ": cannot pack its weights sparse");
            }
        }
        out.calls.push_back(c);
    }
    return out;
}

}  // namespace hilnas::firmware
