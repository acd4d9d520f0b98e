// Datasets for training: Fashion-MNIST, MNIST (IDX files, gzip or raw) and
// CIFAR-10 (its binary format), loaded whole into memory as uint8 tensors.
// Private to the trainer (LibTorch types).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hilnas/arch/model.h"

namespace hilnas::trainer {

// Where Debian's dataset package puts Fashion-MNIST.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// One split: images [N, C, H, W] uint8 (the raw pixels), labels [N] int64.
struct Split {
    torch::Tensor images;
    torch::Tensor labels;
    int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct Dataset {
    std::string name;
    arch::Shape shape;  // [H, W, C] of one image
    int classes = 10;
    Split train;       // what remains of the training set after the validation split
    Split validation;  // carved from the training set with a fixed seed
    Split test;        // only for the final figures
    // Light augmentation that suits the data: random shifts of up to
    // `shift` pixels, horizontal flips where a mirrored image is the same class.
    int augment_shift = 0;
    bool augment_flip = false;
};

struct DatasetOptions {
    std::string name = "fashion-mnist";  // fashion-mnist | mnist | cifar10
    std::string path;                    // directory; empty: the default (fashion-mnist only)
    double validation_fraction = 0.1;
    uint64_t split_seed = 0x68696c6e6173;  // fixed: the same split on every worker
    int64_t train_limit = 0;               // at most this many training images (0: all)
    int64_t validation_limit = 0;
    int64_t test_limit = 0;
};

// Loads and splits. A missing file is NotFound and a corrupt one InvalidArgument,
// both naming the file; an unknown dataset name is InvalidArgument on "dataset".
Dataset LoadDataset(const DatasetOptions& options);

// One IDX file (gzip-compressed or not): [N, d1, d2] uint8 for images (idx3)
// or [N] for labels (idx1). Throws as LoadDataset.
torch::Tensor ReadIdx(const std::string& path);

// The real input the model trains on, exactly what the firmware receives after
// dequantisation: pixel / 255 (int8 input: scale 1/255, zero point -128).
// `images` uint8 [N, C, H, W] -> float [N, C, H, W].
torch::Tensor ToReal(const torch::Tensor& images);
inline constexpr double kInputScale = 1.0 / 255.0;
inline constexpr int kInputZeroPoint = -128;

// Random shifts (zero fill) and flips of a uint8 or float batch [N, C, H, W].
torch::Tensor Augment(const torch::Tensor& batch, int shift, bool flip);

}  // namespace hilnas::trainer
