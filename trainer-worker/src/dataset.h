// Datasets for training as uint8 tensors. Which datasets exist, how their
// files are read and how the validation split is carved are owned by
// services/dataset (hilnas_dataset), which the board agent reads too; this
// file only wraps its bytes in tensors and adds what training needs
// (the real-valued input, augmentation). Private to the trainer (LibTorch types).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "hilnas/arch/model.h"
#include "hilnas/dataset/dataset.h"

namespace hilnas::trainer {

using dataset::kFashionMnistDir;
using dataset::kInputScale;
using dataset::kInputZeroPoint;

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
    Split validation;  // carved from the training set with a fixed seed; undefined when empty
    Split test;        // only for the final figures
    // Light augmentation that suits the data: random shifts of up to
    // `shift` pixels, horizontal flips where a mirrored image is the same class.
    int augment_shift = 0;
    bool augment_flip = false;
};

// Name, path, validation fraction, split seed and limits: see dataset::Options.
using DatasetOptions = dataset::Options;

// Loads and splits with dataset::Load (same errors: a missing file is NotFound
// and a corrupt one InvalidArgument, both naming the file; an unknown dataset
// name is InvalidArgument on "dataset"). The tensors own the loaded bytes.
Dataset LoadDataset(const DatasetOptions& options);

// One IDX file (gzip-compressed or not): [N, d1, d2] uint8 for images (idx3)
// or [N] for labels (idx1). Throws as LoadDataset.
torch::Tensor ReadIdx(const std::string& path);

// The real input the model trains on, exactly what the firmware receives after
// dequantisation: pixel / 255 (int8 input: scale 1/255, zero point -128).
// `images` uint8 [N, C, H, W] -> float [N, C, H, W].
torch::Tensor ToReal(const torch::Tensor& images);

// Random shifts (zero fill) and flips of a uint8 or float batch [N, C, H, W].
torch::Tensor Augment(const torch::Tensor& batch, int shift, bool flip);

}  // namespace hilnas::trainer
