#include "dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <vector>

#include "hilnas/common/errors.h"

namespace hilnas::trainer {

namespace {

namespace fs = std::filesystem;

// Reads a whole file through zlib, which passes uncompressed files through.
std::vector<uint8_t> ReadMaybeGzip(const std::string& path) {
    if (!fs::exists(path)) throw NotFound("dataset file " + path + " does not exist", "dataset");
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) throw Unavailable("cannot open dataset file " + path, "dataset");
    std::vector<uint8_t> data;
    std::vector<uint8_t> chunk(1 << 20);
    for (;;) {
        const int n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
        if (n < 0) {
            int code = 0;
            const std::string why = gzerror(f, &code);
            gzclose(f);
            throw InvalidArgument("dataset file " + path + " is corrupt: " + why, "dataset");
        }
        if (n == 0) break;
        data.insert(data.end(), chunk.begin(), chunk.begin() + n);
    }
    gzclose(f);
    return data;
}

uint32_t BigEndian32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// The first of `names` that exists in `dir` (so both x.gz and x work).
std::string Find(const std::string& dir, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        if (fs::exists(fs::path(dir) / n)) return (fs::path(dir) / n).string();
    }
    return (fs::path(dir) / names.front()).string();
}

Split Subset(const Split& s, const std::vector<int64_t>& index) {
    const auto idx = torch::tensor(index, torch::kLong);
    return Split{s.images.index_select(0, idx), s.labels.index_select(0, idx)};
}

Split Head(const Split& s, int64_t limit) {
    if (limit <= 0 || limit >= s.size()) return s;
    return Split{s.images.narrow(0, 0, limit).clone(), s.labels.narrow(0, 0, limit).clone()};
}

Split LoadIdxPair(const std::string& dir, const std::string& stem, int classes) {
    const std::string images_path = Find(
        dir,
        {stem + "-images-idx3-ubyte.gz", stem + "-images-idx3-ubyte", stem + "-images.idx3-ubyte"});
    const std::string labels_path = Find(
        dir,
        {stem + "-labels-idx1-ubyte.gz", stem + "-labels-idx1-ubyte", stem + "-labels.idx1-ubyte"});
    torch::Tensor images = ReadIdx(images_path);
    torch::Tensor labels = ReadIdx(labels_path);
    if (images.dim() != 3) {
        throw InvalidArgument("dataset file " + images_path + " holds no images (idx1)", "dataset");
    }
    if (labels.dim() != 1) {
        throw InvalidArgument("dataset file " + labels_path + " holds no labels", "dataset");
    }
    if (images.size(0) != labels.size(0)) {
        throw InvalidArgument("dataset file " + labels_path + " has " +
                                  std::to_string(labels.size(0)) + " labels for " +
                                  std::to_string(images.size(0)) + " images in " + images_path,
                              "dataset");
    }
    if (labels.numel() > 0 && labels.max().item<int64_t>() >= classes) {
        throw InvalidArgument(
            "dataset file " + labels_path + " has a label >= " + std::to_string(classes),
            "dataset");
    }
    return Split{images.unsqueeze(1).contiguous(), labels.to(torch::kLong)};
}

Split LoadCifarFiles(const std::string& dir, const std::vector<std::string>& names) {
    constexpr int64_t kRecord = 1 + 3 * 32 * 32;
    std::vector<torch::Tensor> images, labels;
    for (const auto& name : names) {
        const std::string path = (fs::path(dir) / name).string();
        const std::vector<uint8_t> bytes = ReadMaybeGzip(path);
        const auto size = static_cast<int64_t>(bytes.size());
        if (size == 0 || size % kRecord != 0) {
            throw InvalidArgument("dataset file " + path + " is corrupt: " + std::to_string(size) +
                                      " bytes is not a whole number of 3073-byte records",
                                  "dataset");
        }
        auto t = torch::from_blob(const_cast<uint8_t*>(bytes.data()), {size / kRecord, kRecord},
                                  torch::kUInt8)
                     .clone();
        auto l = t.select(1, 0).to(torch::kLong);
        if (l.max().item<int64_t>() >= 10) {
            throw InvalidArgument("dataset file " + path + " is corrupt: a label above 9",
                                  "dataset");
        }
        labels.push_back(l);
        images.push_back(t.narrow(1, 1, kRecord - 1).reshape({-1, 3, 32, 32}));
    }
    return Split{torch::cat(images).contiguous(), torch::cat(labels)};
}

}  // namespace

torch::Tensor ReadIdx(const std::string& path) {
    const std::vector<uint8_t> b = ReadMaybeGzip(path);
    auto corrupt = [&](const std::string& why) {
        return InvalidArgument("dataset file " + path + " is corrupt: " + why, "dataset");
    };
    if (b.size() < 8) throw corrupt("shorter than an IDX header");
    if (b[0] != 0 || b[1] != 0 || b[2] != 0x08) {
        throw corrupt("not an IDX file of unsigned bytes (bad magic)");
    }
    const int dims = b[3];
    if (dims < 1 || dims > 3) throw corrupt("IDX with " + std::to_string(dims) + " dimensions");
    const size_t header = 4 + 4 * static_cast<size_t>(dims);
    if (b.size() < header) throw corrupt("truncated header");
    std::vector<int64_t> shape;
    int64_t count = 1;
    for (int d = 0; d < dims; ++d) {
        shape.push_back(BigEndian32(&b[4 + 4 * static_cast<size_t>(d)]));
        count *= shape.back();
    }
    if (static_cast<int64_t>(b.size() - header) != count) {
        throw corrupt("expected " + std::to_string(count) + " data bytes, found " +
                      std::to_string(b.size() - header));
    }
    return torch::from_blob(const_cast<uint8_t*>(b.data() + header), shape, torch::kUInt8).clone();
}

Dataset LoadDataset(const DatasetOptions& o) {
    if (!(o.validation_fraction >= 0 && o.validation_fraction < 1)) {
        throw InvalidArgument("must be in [0, 1)", "dataset.validation_fraction");
    }
    Dataset d;
    d.name = o.name;
    Split train, test;
    if (o.name == "fashion-mnist" || o.name == "mnist") {
        std::string dir = o.path;
        if (dir.empty()) {
            if (o.name == "mnist") {
                throw InvalidArgument("mnist needs a directory with its IDX files", "dataset.path");
            }
            dir = kFashionMnistDir;
        }
        train = LoadIdxPair(dir, "train", 10);
        test = LoadIdxPair(dir, "t10k", 10);
        d.shape = arch::Shape{28, 28, 1};
        d.augment_shift = 2;
        d.augment_flip = o.name == "fashion-mnist";  // clothes mirror; digits do not
    } else if (o.name == "cifar10") {
        if (o.path.empty()) {
            throw InvalidArgument("cifar10 needs a directory with its binary batches",
                                  "dataset.path");
        }
        std::string dir = o.path;
        if (fs::exists(fs::path(dir) / "cifar-10-batches-bin")) {
            dir = (fs::path(dir) / "cifar-10-batches-bin").string();
        }
        train = LoadCifarFiles(dir, {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                     "data_batch_4.bin", "data_batch_5.bin"});
        test = LoadCifarFiles(dir, {"test_batch.bin"});
        d.shape = arch::Shape{32, 32, 3};
        d.augment_shift = 4;
        d.augment_flip = true;
    } else {
        throw InvalidArgument("unknown dataset '" + o.name + "' (fashion-mnist, mnist, cifar10)",
                              "dataset");
    }
    if (train.images.size(2) != d.shape.h || train.images.size(3) != d.shape.w) {
        throw InvalidArgument(o.name + " images are " + std::to_string(train.images.size(2)) + "x" +
                                  std::to_string(train.images.size(3)) + ", expected " +
                                  std::to_string(d.shape.h) + "x" + std::to_string(d.shape.w),
                              "dataset");
    }
    // The split: a Fisher-Yates permutation from a fixed seed (our own loop, so
    // every platform and library version carves the same validation set).
    const int64_t n = train.size();
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.split_seed);
    for (int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    const auto n_val = static_cast<int64_t>(std::llround(o.validation_fraction * n));
    std::vector<int64_t> val_idx(order.begin(), order.begin() + n_val);
    std::vector<int64_t> train_idx(order.begin() + n_val, order.end());
    std::sort(val_idx.begin(), val_idx.end());
    if (o.validation_limit > 0 && o.validation_limit < n_val) {
        val_idx.resize(static_cast<size_t>(o.validation_limit));
    }
    if (o.train_limit > 0 && o.train_limit < static_cast<int64_t>(train_idx.size())) {
        train_idx.resize(static_cast<size_t>(o.train_limit));
    }
    std::sort(train_idx.begin(), train_idx.end());
    d.train = Subset(train, train_idx);
    d.validation = n_val > 0 ? Subset(train, val_idx) : Split{};
    d.test = Head(test, o.test_limit);
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
