// The IR as a LibTorch module: conv2d, depthwise_conv2d, pools, flatten,
// dense and residual add with fused activations, plus what training needs on
// top: batch norm (folded into the weights before quantisation), weight masks
// (pruning), sparse variational dropout, DNAS channel gates and quantisation-
// aware training that simulates the int8 runtime. Private to the trainer.
//
// Tensors inside are NCHW (LibTorch's layout); wherever the IR's NHWC order is
// visible -- flatten and a dense layer's inputs -- the module permutes to NHWC
// first, so weights transfer to the runtime without reordering features.
#pragma once

#include <torch/torch.h>

#include <array>
#include <vector>

#include "hilnas/arch/model.h"

namespace hilnas::trainer {

// kOff: float. kObserve: float, tracking every activation tensor's range
// (calibration). kFakeQuant: weights and activations fake-quantised as the
// runtime quantises them; ranges keep tracking while the module is training.
enum class QuantMode { kOff, kObserve, kFakeQuant };

struct QuantParams {
    double scale = 1.0;
    int zero_point = 0;
};

// Asymmetric int8 over [min(lo, 0), max(hi, 0)] (zero exactly representable).
QuantParams ChooseActivationQuant(double lo, double hi);

// Per-output-channel symmetric scales of a weight (dim 0 = output channel):
// max |w| / qmax with qmax 127 (8-bit) or 7 (4-bit); 1 for an all-zero channel.
torch::Tensor WeightScales(const torch::Tensor& weight, int bits);
// Weight values on the int grid (as float), what the artifact stores.
torch::Tensor QuantizeWeight(const torch::Tensor& weight, const torch::Tensor& scales, int bits);

// Everything one IR layer owns. Layouts: conv2d [O, I, KH, KW], depthwise
// [C*mult, 1, KH, KW], dense [units, in] with `in` in NHWC order.
struct LayerState {
    torch::Tensor weight, bias;
    bool has_bn = false;
    torch::Tensor bn_weight, bn_bias, bn_mean, bn_var;
    torch::Tensor mask;        // 0/1 like weight; undefined: dense
    torch::Tensor log_sigma2;  // sparse VD; undefined unless enabled
    torch::Tensor gate;        // DNAS: [C] output-channel factors; undefined: none
    // Bayesian compression: the posterior N(mu, sigma^2) of a scale per output
    // channel, [C] each; undefined unless enabled on this layer.
    torch::Tensor group_mu, group_log_sigma2;
    torch::Tensor pool_count;  // avg_pool: window elements inside the input, [1, 1, Ho, Wo]
    std::array<int64_t, 4> pad{0, 0, 0, 0};  // left, right, top, bottom (TensorFlow SAME)
};

class NetworkImpl : public torch::nn::Module {
  public:
    // Throws InvalidArgument for an invalid IR. Weights get He initialisation;
    // conv2d and depthwise layers get batch norm when `batch_norm`.
    explicit NetworkImpl(const arch::Model& model, bool batch_norm = true);

    // x: real inputs [N, C, H, W]. Returns the last layer's output flattened
    // (NHWC order) to [N, features]: the logits for a classifier.
    torch::Tensor forward(const torch::Tensor& x);

    const arch::Graph& graph() const { return graph_; }
    const arch::Model& model() const { return graph_.model; }
    int num_layers() const { return graph_.num_layers(); }
    LayerState& layer(int i) { return layers_[static_cast<size_t>(i)]; }
    const LayerState& layer(int i) const { return layers_[static_cast<size_t>(i)]; }
    // Output channels of a weighted layer.
    int64_t out_channels(int i) const;

    // Replaces every batch norm by the equivalent scale and shift of its
    // layer's weights and bias (using the running statistics).
    void FoldBatchNorm();
    bool has_batch_norm() const;

    // The weight the layer computes with: masked, and with sparse VD's
    // log alpha > threshold entries dropped outside training.
    torch::Tensor EffectiveWeight(int i) const;

    // Sets (or replaces) layer i's 0/1 weight mask.
    void SetMask(int i, const torch::Tensor& mask);

    // Parameters an optimiser should update in the current state (weights,
    // biases, live batch norms, sparse VD's log sigma^2, the group scales'
    // mu and log sigma^2).
    std::vector<torch::Tensor> TrainableParameters() const;

    // Quantisation. Tensor t: 0 the input, i + 1 layer i's output.
    void set_quant_mode(QuantMode mode) { quant_mode_ = mode; }
    QuantMode quant_mode() const { return quant_mode_; }
    // The tensor whose quantisation `t` shares (pools and flatten keep their input's).
    int QuantSource(int t) const { return quant_source_[static_cast<size_t>(t)]; }
    bool HasRange(int t) const;
    QuantParams TensorQuant(int t) const;
    void ResetRanges();
    double range_momentum = 0.9;  // EMA factor of the old range per batch

    // Sparse variational dropout (Molchanov et al. 2017) on every weighted layer.
    void EnableSparseVd(bool enabled);
    bool sparse_vd() const { return sparse_vd_; }
    double log_alpha_threshold = 3.0;
    torch::Tensor LogAlpha(int i) const;  // clamped to [-10, 10]
    // Sum over all weights of the KL approximation to the log-uniform prior.
    torch::Tensor KlDivergence() const;
    // Turns log alpha > threshold into mask zeros and disables VD.
    void FreezeSparseVd();

    // Bayesian compression (Louizos et al. 2017): each output channel c of
    // the layers in `layers` is multiplied by a scale z_c ~ N(mu_c, sigma_c^2)
    // after its batch norm (or bias) and before its activation. Training
    // samples z per image (local reparameterisation); outside training the
    // scale is mu_c, and 0 where the channel's log alpha > group_log_alpha_threshold.
    // Starts at mu = 1, sigma^2 = exp(-6); enabling again keeps what was learned.
    void EnableGroupScales(const std::vector<bool>& layers);
    bool group_scales() const { return group_scales_; }
    double group_log_alpha_threshold = 3.0;
    // log sigma_c^2 - log mu_c^2 of layer i's scales, clamped to [-10, 10].
    torch::Tensor GroupLogAlpha(int i) const;
    // Sum over all channel scales of the KL to the log-uniform prior
    // (Molchanov's approximation).
    torch::Tensor GroupKlDivergence() const;
    // Multiplies each scale's mean into its channel (batch norm scale and
    // shift, or weight row and bias) and disables the scales: the network then
    // computes what it computed outside training, except that channels past
    // the threshold keep mu (remove them with Shrink).
    void FoldGroupScales();

  private:
    torch::Tensor Weighted(int i, const torch::Tensor& x);
    torch::Tensor Observe(int t, const torch::Tensor& y);
    torch::Tensor GroupScale(int i, const torch::Tensor& y) const;

    arch::Graph graph_;
    std::vector<LayerState> layers_;
    std::vector<int> quant_source_;
    std::vector<double> lo_, hi_;
    std::vector<bool> observed_;
    QuantMode quant_mode_ = QuantMode::kOff;
    bool sparse_vd_ = false;
    bool group_scales_ = false;
};
TORCH_MODULE(Network);

// [N, C, H, W] -> [N, H*W*C] in NHWC order; a 2-D tensor is returned as is.
torch::Tensor FlattenNhwc(const torch::Tensor& x);

// Fraction of zero weights over every weighted layer's effective weight
// (biases excluded), and per layer.
double Sparsity(const NetworkImpl& net);
double LayerSparsity(const NetworkImpl& net, int i);

// The IR with each weighted layer's `sparsity` set from its mask.
arch::Model WithSparsity(const NetworkImpl& net);

}  // namespace hilnas::trainer
