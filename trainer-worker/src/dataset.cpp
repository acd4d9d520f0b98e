#include "dataset.h"

#include <memory>
#include <utility>
#include <vector>

namespace hilnas::trainer {

namespace {

// A uint8 tensor of `sizes` that takes over `bytes` (no copy: the tensor's
// deleter frees them).
torch::Tensor Adopt(std::vector<uint8_t> bytes, const std::vector<int64_t>& sizes) {
    if (bytes.empty()) return torch::empty(sizes, torch::kUInt8);
    auto owner = std::make_unique<std::vector<uint8_t>>(std::move(bytes));
    std::vector<uint8_t>* raw = owner.get();
    torch::Tensor t = torch::from_blob(
        raw->data(), sizes, [raw](void*) { delete raw; }, torch::kUInt8);
    owner.release();  // the tensor owns the bytes now
    return t;
}

Split ToSplit(dataset::Images images) {
    const int64_t n = images.size();
    const arch::Shape& s = images.shape;
    return Split{Adopt(std::move(images.pixels), {n, s.c, s.h, s.w}),
                 Adopt(std::move(images.labels), {n}).to(torch::kLong)};
}

}  // namespace

torch::Tensor ReadIdx(const std::string& path) {
    dataset::Idx idx = dataset::ReadIdx(path);
    return Adopt(std::move(idx.data), idx.dims);
}

Dataset LoadDataset(const DatasetOptions& options) {
    dataset::Dataset loaded = dataset::Load(options);
    Dataset d;
    d.name = loaded.name;
    d.shape = loaded.shape;
    d.classes = loaded.classes;
    d.augment_shift = loaded.augment_shift;
    d.augment_flip = loaded.augment_flip;
    d.train = ToSplit(std::move(loaded.train));
    if (loaded.validation.size() > 0) d.validation = ToSplit(std::move(loaded.validation));
    d.test = ToSplit(std::move(loaded.test));
    return d;
}

torch::Tensor ToReal(const torch::Tensor& images) {
    return images.to(torch::kFloat32).mul_(static_cast<float>(kInputScale));
}

torch::Tensor Augment(const torch::Tensor& batch, int shift, bool flip) {
    torch::Tensor out = batch;
    const int64_t n = batch.size(0), h = batch.size(2), w = batch.size(3);
    if (shift > 0) {
        const torch::Tensor padded = torch::constant_pad_nd(batch, {shift, shift, shift, shift}, 0);
        const auto offsets = torch::randint(0, 2 * shift + 1, {n, 2}, torch::kLong).contiguous();
        const auto* off = offsets.data_ptr<int64_t>();
        out = torch::empty_like(batch);
        for (int64_t i = 0; i < n; ++i) {
            out[i].copy_(padded[i].narrow(1, off[2 * i], h).narrow(2, off[2 * i + 1], w));
        }
    }
    if (flip) {
        const auto mask = torch::rand({n, 1, 1, 1}, torch::kFloat32) < 0.5;
        out = torch::where(mask.to(out.device()), out.flip({3}), out);
    }
    return out;
}

}  // namespace hilnas::trainer
