#include "hilnas/firmware/host_model.h"

#include <cmath>
#include <cstring>

#include "hilnas/common/errors.h"
#include "lowering.h"

namespace hilnas::firmware {

namespace {

const int8_t* Weights(const v1::QuantizedLayer& q) {
    return reinterpret_cast<const int8_t*>(q.weights().data());
}

}  // namespace

HostModel::HostModel(v1::Int8Model model)
    : model_(std::move(model)), lowered_(std::make_unique<Lowered>(Lower(model_))) {
    // Offsets are 4-byte aligned; vector storage is at least 16-byte aligned.
    arena_.assign(static_cast<size_t>(std::max<int64_t>(lowered_->plan.arena_bytes, 4)), 0);
}

HostModel::~HostModel() = default;
HostModel::HostModel(HostModel&&) noexcept = default;
HostModel& HostModel::operator=(HostModel&&) noexcept = default;

int64_t HostModel::input_bytes() const { return lowered_->input_bytes; }
int64_t HostModel::output_bytes() const { return lowered_->output_bytes; }
int64_t HostModel::arena_bytes() const { return lowered_->plan.arena_bytes; }

std::vector<int8_t> HostModel::QuantizeInput(std::span<const float> real) const {
    if (static_cast<int64_t>(real.size()) != input_bytes()) {
        throw InvalidArgument("has " + std::to_string(real.size()) + " values, the model takes " +
                                  std::to_string(input_bytes()),
                              "input");
    }
    const double scale = model_.input().scale();
    const int zp = model_.input().zero_point();
    std::vector<int8_t> q(real.size());
    for (size_t i = 0; i < real.size(); ++i) {
        const long v = std::lround(static_cast<double>(real[i]) / scale) + zp;
        q[i] = static_cast<int8_t>(std::clamp<long>(v, -128, 127));
    }
    return q;
}

std::vector<int8_t> HostModel::Run(std::span<const int8_t> input) {
    if (static_cast<int64_t>(input.size()) != input_bytes()) {
        throw InvalidArgument("has " + std::to_string(input.size()) + " bytes, the model takes " +
                                  std::to_string(input_bytes()),
                              "input");
    }
    int8_t* arena = arena_.data();
    std::memcpy(arena + lowered_->input_offset, input.data(), input.size());
    for (const KernelCall& c : lowered_->calls) {
        const v1::QuantizedLayer& q = model_.layers(c.layer);
        const nn_context ctx{c.scratch_bytes > 0 ? arena + c.scratch_offset : nullptr,
                             c.scratch_bytes};
        const nn_per_channel_quant pc{q.multiplier().data(), q.shift().data()};
        const int32_t* bias = q.bias().data();
        const int8_t* in = arena + c.input_offset;
        int8_t* out = arena + c.output_offset;
        nn_status s = NN_OK;
        switch (c.kernel) {
            case Kernel::kConv:
                s = nn_convolve_s8(&ctx, &c.conv, &pc, &c.input, in, &c.filter, Weights(q), bias,
                                   &c.output, out);
                break;
            case Kernel::kConv1x1:
                s = nn_convolve_1x1_s8(&ctx, &c.conv, &pc, &c.input, in, &c.filter, Weights(q),
                                       bias, &c.output, out);
                break;
            case Kernel::kConvS4:
                s = nn_convolve_s4(&ctx, &c.conv, &pc, &c.input, in, &c.filter, Weights(q), bias,
                                   &c.output, out);
                break;
            case Kernel::kDepthwise:
                s = nn_depthwise_conv_s8(&ctx, &c.dw, &pc, &c.input, in, &c.filter, Weights(q),
                                         bias, &c.output, out);
                break;
            case Kernel::kDepthwiseInPlace:  // out == in: the plan shares their bytes
                s = nn_depthwise_conv_in_place_s8(&ctx, &c.dw, &pc, &c.input, &c.filter, Weights(q),
                                                  bias, &c.output, out);
                break;
            case Kernel::kConv1x1InPlace:
                s = nn_convolve_1x1_in_place_s8(&ctx, &c.conv, &pc, &c.input, &c.filter, Weights(q),
                                                bias, &c.output, out);
                break;
            case Kernel::kDepthwiseS4:
                s = nn_depthwise_conv_s4(&ctx, &c.dw, &pc, &c.input, in, &c.filter, Weights(q),
                                         bias, &c.output, out);
                break;
            case Kernel::kMaxPool:
                s = nn_max_pool_s8(&ctx, &c.pool, &c.input, in, &c.filter, &c.output, out);
                break;
            case Kernel::kAvgPool:
                s = nn_avg_pool_s8(&ctx, &c.pool, &c.input, in, &c.filter, &c.output, out);
                break;
            case Kernel::kGlobalAvgPool:
                s = nn_global_avg_pool_s8(&ctx, &c.global_pool, &c.global_quant, &c.input, in,
                                          &c.output, out);
                break;
            case Kernel::kFullyConnected:
                s = nn_fully_connected_s8(&ctx, &c.fc, &pc, &c.input, in, &c.filter, Weights(q),
                                          bias, &c.output, out);
                break;
            case Kernel::kFullyConnectedS4:
                s = nn_fully_connected_s4(&ctx, &c.fc, &pc, &c.input, in, &c.filter, Weights(q),
                                          bias, &c.output, out);
                break;
            case Kernel::kConvSparse:
                s = nn_convolve_sparse_s8(&ctx, &c.conv, &pc, &c.input, in, &c.filter,
                                          c.sparse_weights.data(), bias, &c.output, out);
                break;
            case Kernel::kFullyConnectedSparse:
                s = nn_fully_connected_sparse_s8(&ctx, &c.fc, &pc, &c.input, in, &c.filter,
                                                 c.sparse_weights.data(), bias, &c.output, out);
                break;
            case Kernel::kAdd:
                s = nn_add_s8(&ctx, &c.add, &c.input, in, arena + c.input2_offset, out);
                break;
            case Kernel::kView:
                break;
        }
        if (s != NN_OK) {
            throw Internal(lowered_->graph.LayerName(c.layer) + ": " + KernelFunction(c.kernel) +
                           " returned " + std::to_string(static_cast<int>(s)));
        }
    }
    const int8_t* result = arena + lowered_->output_offset;
    return std::vector<int8_t>(result, result + lowered_->output_bytes);
}

}  // namespace hilnas::firmware
