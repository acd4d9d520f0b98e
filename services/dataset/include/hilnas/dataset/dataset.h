// The datasets hilnas searches on, owned once: which datasets exist (shape,
// classes, augmentation that suits them), how their files are read (IDX files
// of Fashion-MNIST and MNIST, gzip or raw; CIFAR-10's binary batches), and the
// seeded split that carves the validation set from the training set. The
// trainer wraps these bytes in tensors; the board agent feeds the same
// validation images to the board. No LibTorch here.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hilnas/arch/model.h"
#include "hilnas/common/config.h"

namespace hilnas::dataset {

// Where Debian's dataset package puts Fashion-MNIST.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The dataset of a job, trainer or agent that names none.
inline constexpr const char* kDefaultDataset = "fashion-mnist";

// The model's int8 input: int8 = round(real / scale) + zero point with
// real = pixel / 255, so int8 = pixel - 128 exactly.
inline constexpr double kInputScale = 1.0 / 255.0;
inline constexpr int kInputZeroPoint = -128;

// The split every worker and agent carves unless told otherwise.
inline constexpr uint64_t kDefaultSplitSeed = 0x68696c6e6173;  // "hilnas"

// A dataset hilnas knows.
struct Spec {
    std::string_view name;         // fashion-mnist | mnist | cifar10
    arch::Shape shape;             // [H, W, C] of one image
    int classes = 0;               // labels are 0 .. classes - 1
    int augment_shift = 0;         // random shifts of up to this many pixels suit it
    bool augment_flip = false;     // a mirrored image is the same class
    std::string_view default_dir;  // where it lives when no path is given; empty: none
};

// Every known dataset, in a fixed order.
std::span<const Spec> KnownDatasets();

// The spec named `name`; an unknown name is InvalidArgument on "dataset".
const Spec& FindDataset(std::string_view name);

// Whether `dir` holds the files Load reads for `spec` (by name; their contents
// are checked when loaded).
bool FilesPresent(const Spec& spec, const std::string& dir);

// Where one host keeps its datasets: "NAME=DIR" entries (the `datasets`
// option of trainers and agents), else each dataset's default directory.
// MNIST and Fashion-MNIST share file names, so a directory says which
// dataset it holds only through its entry.
class Locations {
  public:
    // InvalidArgument naming `field` for an entry without '=', an unknown
    // dataset, an empty directory or a dataset named twice.
    static Locations Parse(const std::vector<std::string>& entries, const std::string& field);
    // The `datasets` option (AddDatasetsOption) of `config`.
    static Locations FromConfig(const Config& config);
    // The directory of `name`: its entry's, else `job_path` (a path the job
    // named), else its default ("" when none of them).
    std::string DirFor(std::string_view name, const std::string& job_path = "") const;
    // The known datasets whose files are present, in catalogue order: what a worker advertises.
    std::vector<std::string> Present() const;

  private:
    std::map<std::string, std::string, std::less<>> dirs_;
};

// Adds the `datasets` option (NAME=DIR entries) that trainers and agents
// take; `use` says what the process reads from them.
void AddDatasetsOption(ConfigSchema& schema, std::string_view use);

// Images and their labels, as the trainer's tensors hold them.
struct Images {
    arch::Shape shape;            // [H, W, C] of one image
    std::vector<uint8_t> pixels;  // [N, C, H, W], raw pixels 0..255 (planes, as stored)
    std::vector<uint8_t> labels;  // [N]
    int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

struct Dataset {
    std::string name;
    arch::Shape shape;  // [H, W, C] of one image
    int classes = 0;
    Images train;       // what remains of the training set after the validation split
    Images validation;  // carved from the training set with a fixed seed
    Images test;        // only for the final figures
    int augment_shift = 0;
    bool augment_flip = false;
};

struct Options {
    std::string name = kDefaultDataset;  // one of KnownDatasets()
    std::string path;                    // directory; empty: the spec's default_dir
    double validation_fraction = 0.1;    // in [0, 1)
    uint64_t split_seed = kDefaultSplitSeed;
    int64_t train_limit = 0;  // at most this many training images (0: all)
    int64_t validation_limit = 0;
    int64_t test_limit = 0;  // the first test_limit test images
};

// Reads and splits. A missing file is NotFound and a corrupt one
// InvalidArgument, both naming the file, field "dataset"; an unknown name is
// InvalidArgument on "dataset", a bad fraction on "dataset.validation_fraction",
// a missing directory for a dataset without a default on "dataset.path".
Dataset Load(const Options& options);

// Which images of a training set of `n` go where: indices into the training
// file, each list ascending, disjoint. A Fisher-Yates permutation from
// mt19937_64(split_seed), our own loop so every platform carves the same set;
// the first round(validation_fraction * n) of the permutation validate. Limits
// keep the lowest validation indices and the first training indices of the
// permutation. Load uses exactly this.
struct SplitIndices {
    std::vector<int64_t> train;
    std::vector<int64_t> validation;
};
SplitIndices SplitTrainingSet(int64_t n, const Options& options);

// The contents of one IDX file of unsigned bytes (gzip-compressed or not):
// dims [N, d1, d2] for images (idx3) or [N] for labels (idx1), data row-major.
// Throws as Load.
struct Idx {
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;
};
Idx ReadIdx(const std::string& path);

// The model's int8 input for image `index` of `images`: [H, W, C] (the stored
// [C, H, W] planes transposed), each value pixel - 128. An index outside
// [0, size) is InvalidArgument on "index".
std::vector<int8_t> Int8Input(const Images& images, int64_t index);

}  // namespace hilnas::dataset
