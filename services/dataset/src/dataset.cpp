#include "hilnas/dataset/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <utility>

#include "hilnas/common/errors.h"
#include "hilnas/common/text.h"

namespace hilnas::dataset {

namespace {

namespace fs = std::filesystem;

constexpr std::array<Spec, 3> kKnown{{
    {"fashion-mnist", arch::Shape{28, 28, 1}, 10, 2, true, kFashionMnistDir},  // clothes mirror
    {"mnist", arch::Shape{28, 28, 1}, 10, 2, false, ""},                       // digits do not
    {"cifar10", arch::Shape{32, 32, 3}, 10, 4, true, ""},
}};

// CIFAR-10's binary batches: records of one label byte and 3 x 32 x 32 pixel
// planes (red, green, blue).
constexpr size_t kCifarPixels = 3 * 32 * 32;
constexpr size_t kCifarRecord = 1 + kCifarPixels;

InvalidArgument Corrupt(const std::string& path, const std::string& why) {
    return InvalidArgument("dataset file " + path + " is corrupt: " + why, "dataset");
}

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
            throw Corrupt(path, why);
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
std::string FindFile(const std::string& dir, const std::vector<std::string>& names) {
    for (const auto& n : names) {
        if (fs::exists(fs::path(dir) / n)) return (fs::path(dir) / n).string();
    }
    return (fs::path(dir) / names.front()).string();
}

void CheckLabels(const std::vector<uint8_t>& labels, int classes, const std::string& path) {
    if (!labels.empty() && *std::max_element(labels.begin(), labels.end()) >= classes) {
        throw Corrupt(path, "a label above " + std::to_string(classes - 1));
    }
}

Images LoadIdxPair(const std::string& dir, const std::string& stem, int classes) {
    const std::string images_path = FindFile(
        dir,
        {stem + "-images-idx3-ubyte.gz", stem + "-images-idx3-ubyte", stem + "-images.idx3-ubyte"});
    const std::string labels_path = FindFile(
        dir,
        {stem + "-labels-idx1-ubyte.gz", stem + "-labels-idx1-ubyte", stem + "-labels.idx1-ubyte"});
    Idx images = ReadIdx(images_path);
    Idx labels = ReadIdx(labels_path);
    if (images.dims.size() != 3) {
        throw InvalidArgument("dataset file " + images_path + " holds no images (idx3)", "dataset");
    }
    if (labels.dims.size() != 1) {
        throw InvalidArgument("dataset file " + labels_path + " holds no labels (idx1)", "dataset");
    }
    if (images.dims[0] != labels.dims[0]) {
        throw InvalidArgument("dataset file " + labels_path + " has " +
                                  std::to_string(labels.dims[0]) + " labels for " +
                                  std::to_string(images.dims[0]) + " images in " + images_path,
                              "dataset");
    }
    CheckLabels(labels.data, classes, labels_path);
    Images out;
    out.shape = arch::Shape{static_cast<int>(images.dims[1]), static_cast<int>(images.dims[2]), 1};
    out.pixels = std::move(images.data);  // [N, H, W] is [N, 1, H, W]
    out.labels = std::move(labels.data);
    return out;
}

Images LoadCifarFiles(const std::string& dir, const std::vector<std::string>& names, int classes) {
    Images out;
    out.shape = arch::Shape{32, 32, 3};
    for (const auto& name : names) {
        const std::string path = (fs::path(dir) / name).string();
        const std::vector<uint8_t> bytes = ReadMaybeGzip(path);
        if (bytes.empty() || bytes.size() % kCifarRecord != 0) {
            throw Corrupt(path, std::to_string(bytes.size()) + " bytes is not a whole number of " +
                                    std::to_string(kCifarRecord) + "-byte records");
        }
        const size_t records = bytes.size() / kCifarRecord;
        std::vector<uint8_t> labels(records);
        out.pixels.reserve(out.pixels.size() + records * kCifarPixels);
        for (size_t r = 0; r < records; ++r) {
            const auto record = bytes.begin() + static_cast<std::ptrdiff_t>(r * kCifarRecord);
            labels[r] = *record;
            out.pixels.insert(out.pixels.end(), record + 1, record + kCifarRecord);
        }
        CheckLabels(labels, classes, path);
        out.labels.insert(out.labels.end(), labels.begin(), labels.end());
    }
    return out;
}

Images Subset(const Images& s, const std::vector<int64_t>& index) {
    const auto image = static_cast<size_t>(s.shape.elements());
    Images out;
    out.shape = s.shape;
    out.pixels.resize(index.size() * image);
    out.labels.resize(index.size());
    for (size_t k = 0; k < index.size(); ++k) {
        const auto i = static_cast<size_t>(index[k]);
        std::copy_n(s.pixels.begin() + static_cast<std::ptrdiff_t>(i * image), image,
                    out.pixels.begin() + static_cast<std::ptrdiff_t>(k * image));
        out.labels[k] = s.labels[i];
    }
    return out;
}

Images Head(Images s, int64_t limit) {
    if (limit > 0 && limit < s.size()) {
        s.pixels.resize(static_cast<size_t>(limit * s.shape.elements()));
        s.labels.resize(static_cast<size_t>(limit));
    }
    return s;
}

void CheckShape(const Images& images, const Spec& spec) {
    if (images.shape.h != spec.shape.h || images.shape.w != spec.shape.w) {
        throw InvalidArgument(std::string(spec.name) + " images are " +
                                  std::to_string(images.shape.h) + "x" +
                                  std::to_string(images.shape.w) + ", expected " +
                                  std::to_string(spec.shape.h) + "x" + std::to_string(spec.shape.w),
                              "dataset");
    }
}

void CheckFraction(double validation_fraction) {
    if (!(validation_fraction >= 0 && validation_fraction < 1)) {
        throw InvalidArgument("must be in [0, 1)", "dataset.validation_fraction");
    }
}

}  // namespace

std::span<const Spec> KnownDatasets() { return kKnown; }

const Spec& FindDataset(std::string_view name) {
    for (const Spec& s : kKnown) {
        if (s.name == name) return s;
    }
    std::string known;
    for (const Spec& s : kKnown) known += (known.empty() ? "" : ", ") + std::string(s.name);
    throw InvalidArgument("unknown dataset '" + QuoteForMessage(name) + "' (" + known + ")",
                          "dataset");
}

Idx ReadIdx(const std::string& path) {
    std::vector<uint8_t> b = ReadMaybeGzip(path);
    if (b.size() < 8) throw Corrupt(path, "shorter than an IDX header");
    if (b[0] != 0 || b[1] != 0 || b[2] != 0x08) {
        throw Corrupt(path, "not an IDX file of unsigned bytes (bad magic)");
    }
    const int dims = b[3];
    if (dims < 1 || dims > 3) {
        throw Corrupt(path, "IDX with " + std::to_string(dims) + " dimensions");
    }
    const size_t header = 4 + 4 * static_cast<size_t>(dims);
    if (b.size() < header) throw Corrupt(path, "truncated header");
    Idx out;
    // Three 32-bit dimensions can multiply past int64: refuse before that.
    int64_t count = 1;
    for (int d = 0; d < dims; ++d) {
        out.dims.push_back(BigEndian32(&b[4 + 4 * static_cast<size_t>(d)]));
        if (out.dims.back() != 0 && count > std::numeric_limits<int64_t>::max() / out.dims.back()) {
            throw Corrupt(path, "dimensions whose product overflows");
        }
        count *= out.dims.back();
    }
    if (static_cast<int64_t>(b.size() - header) != count) {
        throw Corrupt(path, "expected " + std::to_string(count) + " data bytes, found " +
                                std::to_string(b.size() - header));
    }
    b.erase(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(header));
    out.data = std::move(b);
    return out;
}

SplitIndices SplitTrainingSet(int64_t n, const Options& o) {
    CheckFraction(o.validation_fraction);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.split_seed);
    for (int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
    const auto n_val = static_cast<int64_t>(std::llround(o.validation_fraction * n));
    SplitIndices s;
    s.validation.assign(order.begin(), order.begin() + n_val);
    s.train.assign(order.begin() + n_val, order.end());
    std::sort(s.validation.begin(), s.validation.end());
    if (o.validation_limit > 0 && o.validation_limit < n_val) {
        s.validation.resize(static_cast<size_t>(o.validation_limit));
    }
    // The training limit takes the first of the permutation, not the lowest
    // indices, so a small training set still spans the whole file.
    if (o.train_limit > 0 && o.train_limit < static_cast<int64_t>(s.train.size())) {
        s.train.resize(static_cast<size_t>(o.train_limit));
    }
    std::sort(s.train.begin(), s.train.end());
    return s;
}

bool FilesPresent(const Spec& spec, const std::string& dir) {
    if (dir.empty()) return false;
    auto any = [&](const fs::path& d, const std::vector<std::string>& names) {
        for (const auto& n : names) {
            std::error_code ec;
            if (fs::is_regular_file(d / n, ec)) return true;
        }
        return false;
    };
    if (spec.name == "cifar10") {
        fs::path d(dir);
        if (fs::exists(d / "cifar-10-batches-bin")) d /= "cifar-10-batches-bin";
        for (const char* f : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                              "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"}) {
            if (!any(d, {f})) return false;
        }
        return true;
    }
    for (const std::string stem : {"train", "t10k"}) {
        for (const std::string kind : {"images-idx3", "labels-idx1"}) {
            const std::string base = stem + "-" + kind + "-ubyte";
            const std::string dotted = stem + "-" + kind.substr(0, kind.find('-')) + "." +
                                       kind.substr(kind.find('-') + 1) + "-ubyte";
            if (!any(dir, {base + ".gz", base, dotted})) return false;
        }
    }
    return true;
}

Locations Locations::Parse(const std::vector<std::string>& entries, const std::string& field) {
    Locations out;
    for (const std::string& e : entries) {
        const size_t eq = e.find('=');
        if (eq == std::string::npos) {
            throw InvalidArgument("'" + QuoteForMessage(e) + "' must be NAME=DIR", field);
        }
        const std::string name = e.substr(0, eq);
        const std::string dir = e.substr(eq + 1);
        std::string known;
        bool found = false;
        for (const Spec& spec : KnownDatasets()) {
            known += (known.empty() ? "" : ", ") + std::string(spec.name);
            found = found || spec.name == name;
        }
        if (!found) {
            throw InvalidArgument(
                "unknown dataset '" + QuoteForMessage(name) + "' (known: " + known + ")", field);
        }
        if (dir.empty()) throw InvalidArgument("'" + name + "' needs a directory", field);
        if (!out.dirs_.emplace(name, dir).second) {
            throw InvalidArgument("'" + name + "' is listed twice", field);
        }
    }
    return out;
}

Locations Locations::FromConfig(const Config& config) {
    return Parse(config.GetStringList("datasets"), "datasets");
}

void AddDatasetsOption(ConfigSchema& schema, std::string_view use) {
    schema.Add({"datasets", OptionType::kStringList, "",
                "where this host keeps datasets, NAME=DIR entries (e.g. mnist=/data/mnist); " +
                    std::string(use) + "; Fashion-MNIST defaults to Debian's package"});
}

std::string Locations::DirFor(std::string_view name, const std::string& job_path) const {
    if (const auto it = dirs_.find(name); it != dirs_.end()) return it->second;
    if (!job_path.empty()) return job_path;
    for (const Spec& s : KnownDatasets()) {
        if (s.name == name) return std::string(s.default_dir);
    }
    return "";
}

std::vector<std::string> Locations::Present() const {
    std::vector<std::string> out;
    for (const Spec& s : KnownDatasets()) {
        if (FilesPresent(s, DirFor(s.name))) out.emplace_back(s.name);
    }
    return out;
}

Dataset Load(const Options& o) {
    CheckFraction(o.validation_fraction);
    const Spec& spec = FindDataset(o.name);
    const bool cifar = spec.name == "cifar10";
    std::string dir = o.path.empty() ? std::string(spec.default_dir) : o.path;
    if (dir.empty()) {
        throw InvalidArgument(
            o.name + " needs a directory with its " + (cifar ? "binary batches" : "IDX files"),
            "dataset.path");
    }
    Images train, test;
    if (cifar) {
        if (fs::exists(fs::path(dir) / "cifar-10-batches-bin")) {
            dir = (fs::path(dir) / "cifar-10-batches-bin").string();
        }
        train = LoadCifarFiles(dir,
                               {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                "data_batch_4.bin", "data_batch_5.bin"},
                               spec.classes);
        test = LoadCifarFiles(dir, {"test_batch.bin"}, spec.classes);
    } else {
        train = LoadIdxPair(dir, "train", spec.classes);
        test = LoadIdxPair(dir, "t10k", spec.classes);
    }
    CheckShape(train, spec);
    CheckShape(test, spec);

    Dataset d;
    d.name = o.name;
    d.shape = spec.shape;
    d.classes = spec.classes;
    d.augment_shift = spec.augment_shift;
    d.augment_flip = spec.augment_flip;
    const SplitIndices split = SplitTrainingSet(train.size(), o);
    d.train = Subset(train, split.train);
    d.validation = Subset(train, split.validation);
    d.test = Head(std::move(test), o.test_limit);
    return d;
}

std::vector<int8_t> Int8Input(const Images& images, int64_t index) {
    if (index < 0 || index >= images.size()) {
        throw InvalidArgument("image " + std::to_string(index) + " is outside [0, " +
                                  std::to_string(images.size()) + ")",
                              "index");
    }
    const auto h = static_cast<size_t>(images.shape.h);
    const auto w = static_cast<size_t>(images.shape.w);
    const auto c = static_cast<size_t>(images.shape.c);
    const size_t image = h * w * c;
    if (images.pixels.size() != static_cast<size_t>(images.size()) * image) {
        throw InvalidArgument(std::to_string(images.pixels.size()) + " pixels for " +
                                  std::to_string(images.size()) + " images of " +
                                  std::to_string(image),
                              "images");
    }
    const uint8_t* chw = images.pixels.data() + static_cast<size_t>(index) * image;
    std::vector<int8_t> hwc(image);
    for (size_t ch = 0; ch < c; ++ch) {
        for (size_t y = 0; y < h; ++y) {
            for (size_t x = 0; x < w; ++x) {
                hwc[(y * w + x) * c + ch] =
                    static_cast<int8_t>(int{chw[(ch * h + y) * w + x]} + kInputZeroPoint);
            }
        }
    }
    return hwc;
}

}  // namespace hilnas::dataset
