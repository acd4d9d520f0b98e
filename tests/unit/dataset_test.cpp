// Datasets: the Debian Fashion-MNIST files, the seeded split, limits, the
// model's int8 input (CIFAR-10's planes transposed), and errors that name the
// file.
#include "hilnas/dataset/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <set>

#include "hilnas/common/errors.h"
#include "hilnas/testing/idx.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::dataset {
namespace {

using ::testing::HasSubstr;

const std::string kTrainImages = std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz";
const std::string kTestImages = std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz";

// The error that `fn` throws, if any.
template <typename Fn>
std::optional<Error> ErrorOf(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

using testing::IdxBytes;
using testing::WriteGz;

// A tiny MNIST directory: n training and n test images of 28x28, raw IDX files.
void WriteMnist(const std::filesystem::path& dir, uint32_t n) {
    std::vector<uint8_t> pixels(n * 28 * 28), labels(n);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
    for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
    for (const std::string stem : {"train", "t10k"}) {
        WriteFile(dir / (stem + "-images-idx3-ubyte"), IdxBytes({n, 28, 28}, pixels));
        WriteFile(dir / (stem + "-labels-idx1-ubyte"), IdxBytes({n}, labels));
    }
}

// A CIFAR-10 pixel that tells record, channel, row and column apart.
uint8_t CifarPixel(int record, int channel, int y, int x) {
    return static_cast<uint8_t>(record * 11 + channel * 80 + y * 3 + x);
}

// CIFAR-10 binary batches: `records` records each, stored as [C, H, W] planes.
void WriteCifar(const std::filesystem::path& dir, int records) {
    auto batch = [&](int first_label) {
        std::string bytes;
        for (int r = 0; r < records; ++r) {
            bytes.push_back(static_cast<char>((first_label + r) % 10));
            for (int ch = 0; ch < 3; ++ch) {
                for (int y = 0; y < 32; ++y) {
                    for (int x = 0; x < 32; ++x) {
                        bytes.push_back(static_cast<char>(CifarPixel(r, ch, y, x)));
                    }
                }
            }
        }
        return bytes;
    };
    for (int b = 1; b <= 5; ++b) {
        WriteFile(dir / ("data_batch_" + std::to_string(b) + ".bin"), batch(b));
    }
    WriteFile(dir / "test_batch.bin", batch(0));
}

bool Disjoint(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    std::vector<int64_t> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    return both.empty();
}

TEST(Dataset, KnownDatasetsHaveTheirShapesAndClasses) {
    ASSERT_EQ(KnownDatasets().size(), 3u);
    EXPECT_EQ(FindDataset("fashion-mnist").shape, (arch::Shape{28, 28, 1}));
    EXPECT_EQ(FindDataset("fashion-mnist").default_dir, kFashionMnistDir);
    EXPECT_TRUE(FindDataset("fashion-mnist").augment_flip);
    EXPECT_EQ(FindDataset("mnist").shape, (arch::Shape{28, 28, 1}));
    EXPECT_FALSE(FindDataset("mnist").augment_flip);
    EXPECT_EQ(FindDataset("cifar10").shape, (arch::Shape{32, 32, 3}));
    for (const Spec& s : KnownDatasets()) EXPECT_EQ(s.classes, 10) << s.name;
    const auto e = ErrorOf([] { FindDataset("imagenet"); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(e->field(), "dataset");
    EXPECT_THAT(e->message(), HasSubstr("unknown dataset 'imagenet'"));
}

TEST(Dataset, FashionMnistFromTheDebianPackage) {
    const Dataset d = Load(Options{});
    EXPECT_EQ(d.name, "fashion-mnist");
    EXPECT_EQ(d.shape, (arch::Shape{28, 28, 1}));
    EXPECT_EQ(d.classes, 10);
    EXPECT_EQ(d.augment_shift, 2);
    EXPECT_TRUE(d.augment_flip);
    EXPECT_EQ(d.train.size() + d.validation.size(), 60000);
    EXPECT_EQ(d.validation.size(), 6000);
    EXPECT_EQ(d.test.size(), 10000);
    for (const Images* s : {&d.train, &d.validation, &d.test}) {
        EXPECT_EQ(s->shape, (arch::Shape{28, 28, 1}));
        EXPECT_EQ(s->pixels.size(), static_cast<size_t>(s->size()) * 28 * 28);
        EXPECT_EQ(*std::max_element(s->labels.begin(), s->labels.end()), 9);
    }
    // Every class is in the validation split.
    EXPECT_EQ(std::set<uint8_t>(d.validation.labels.begin(), d.validation.labels.end()).size(),
              10u);
    // The test set is the t10k file in order: its first image is an ankle boot (9).
    EXPECT_EQ(d.test.labels[0], 9);
    EXPECT_EQ(d.test.pixels, ReadIdx(kTestImages).data);
}

TEST(Dataset, TheSplitIsDisjointAndSeeded) {
    const SplitIndices a = SplitTrainingSet(60000, Options{});
    EXPECT_EQ(a.validation.size(), 6000u);
    EXPECT_EQ(a.train.size(), 54000u);
    EXPECT_TRUE(std::is_sorted(a.train.begin(), a.train.end()));
    EXPECT_TRUE(std::is_sorted(a.validation.begin(), a.validation.end()));
    EXPECT_TRUE(Disjoint(a.train, a.validation));
    std::set<int64_t> all(a.train.begin(), a.train.end());
    all.insert(a.validation.begin(), a.validation.end());
    EXPECT_EQ(all.size(), 60000u);
    EXPECT_EQ(*all.begin(), 0);
    EXPECT_EQ(*all.rbegin(), 59999);

    // The same seed carves the same split; another seed another one.
    const SplitIndices again = SplitTrainingSet(60000, Options{});
    EXPECT_EQ(again.validation, a.validation);
    EXPECT_EQ(again.train, a.train);
    Options other;
    other.split_seed = 7;
    EXPECT_NE(SplitTrainingSet(60000, other).validation, a.validation);

    // Load puts exactly those training images into each split.
    const Dataset d = Load(Options{});
    const Idx raw = ReadIdx(kTrainImages);
    ASSERT_EQ(raw.dims, (std::vector<int64_t>{60000, 28, 28}));
    constexpr size_t kImage = 28 * 28;
    for (size_t k : {size_t{0}, size_t{1}, size_t{2999}, size_t{5999}}) {
        const auto i = static_cast<size_t>(a.validation[k]);
        EXPECT_TRUE(std::equal(d.validation.pixels.begin() + k * kImage,
                               d.validation.pixels.begin() + (k + 1) * kImage,
                               raw.data.begin() + i * kImage))
            << "validation image " << k;
    }
    for (size_t k : {size_t{0}, size_t{27000}, size_t{53999}}) {
        const auto i = static_cast<size_t>(a.train[k]);
        EXPECT_TRUE(std::equal(d.train.pixels.begin() + k * kImage,
                               d.train.pixels.begin() + (k + 1) * kImage,
                               raw.data.begin() + i * kImage))
            << "training image " << k;
    }
    // A second load is the same bytes.
    EXPECT_EQ(Load(Options{}).validation.pixels, d.validation.pixels);
}

TEST(Dataset, LimitsTakeSubsetsOfTheSplit) {
    Options o;
    o.train_limit = 1000;
    o.validation_limit = 100;
    o.test_limit = 500;
    const SplitIndices full = SplitTrainingSet(60000, Options{});
    const SplitIndices limited = SplitTrainingSet(60000, o);
    ASSERT_EQ(limited.train.size(), 1000u);
    ASSERT_EQ(limited.validation.size(), 100u);
    // Validation keeps its lowest indices; training images come from the whole file.
    EXPECT_TRUE(
        std::equal(limited.validation.begin(), limited.validation.end(), full.validation.begin()));
    EXPECT_TRUE(std::includes(full.train.begin(), full.train.end(), limited.train.begin(),
                              limited.train.end()));
    EXPECT_GT(limited.train.back(), 50000);

    const Dataset d = Load(o);
    EXPECT_EQ(d.train.size(), 1000);
    EXPECT_EQ(d.validation.size(), 100);
    EXPECT_EQ(d.test.size(), 500);
    EXPECT_EQ(d.test.pixels.size(), 500u * 28 * 28);
    const Idx test = ReadIdx(kTestImages);
    EXPECT_TRUE(std::equal(d.test.pixels.begin(), d.test.pixels.end(), test.data.begin()));

    // No validation split at all.
    o.validation_fraction = 0;
    const SplitIndices none = SplitTrainingSet(60000, o);
    EXPECT_TRUE(none.validation.empty());
    EXPECT_EQ(none.train.size(), 1000u);
}

TEST(Dataset, Int8InputIsThePixelMinus128InHwcOrder) {
    Options o;
    o.test_limit = 3;
    const Dataset d = Load(o);
    const Idx raw = ReadIdx(kTestImages);
    for (int64_t index = 0; index < 3; ++index) {
        const std::vector<int8_t> input = Int8Input(d.test, index);
        ASSERT_EQ(input.size(), 28u * 28);
        for (size_t p : {size_t{0}, size_t{14 * 28 + 14}, size_t{20 * 28 + 3}, size_t{783}}) {
            const int pixel = raw.data[static_cast<size_t>(index) * 784 + p];
            EXPECT_EQ(input[p], pixel - 128) << "image " << index << " position " << p;
        }
    }
    // The corners of Fashion-MNIST images are background: pixel 0, int8 -128.
    const std::vector<int8_t> boot = Int8Input(d.test, 0);
    EXPECT_EQ(boot.front(), -128);
    EXPECT_EQ(boot.back(), -128);
    // The real value the model sees is (int8 - zero point) * scale = pixel / 255.
    EXPECT_DOUBLE_EQ((127 - kInputZeroPoint) * kInputScale, 1.0);

    const auto e = ErrorOf([&] { Int8Input(d.test, 3); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(e->field(), "index");
}

TEST(Dataset, Cifar10PlanesAreTransposedToHwc) {
    const testing::TempDir tmp;
    const auto dir = tmp.path() / "cifar-10-batches-bin";
    std::filesystem::create_directories(dir);
    WriteCifar(dir, 4);
    Options o;
    o.name = "cifar10";
    o.path = tmp.path().string();  // the batches' own folder is found inside it
    o.validation_fraction = 0.25;
    const Dataset d = Load(o);
    EXPECT_EQ(d.shape, (arch::Shape{32, 32, 3}));
    EXPECT_EQ(d.train.size(), 15);
    EXPECT_EQ(d.validation.size(), 5);
    ASSERT_EQ(d.test.size(), 4);
    EXPECT_EQ(d.test.pixels.size(), 4u * 3 * 32 * 32);
    // Stored as the trainer's tensors hold them: [N, C, H, W].
    EXPECT_EQ(d.test.pixels[((2 * 3 + 1) * 32 + 5) * 32 + 7], CifarPixel(2, 1, 5, 7));
    EXPECT_EQ(d.test.labels[2], 2);
    for (int64_t r = 0; r < 4; ++r) {
        const std::vector<int8_t> input = Int8Input(d.test, r);
        ASSERT_EQ(input.size(), 32u * 32 * 3);
        int wrong = 0;
        for (int y = 0; y < 32; ++y) {
            for (int x = 0; x < 32; ++x) {
                for (int ch = 0; ch < 3; ++ch) {
                    const int want = CifarPixel(static_cast<int>(r), ch, y, x) - 128;
                    wrong += input[static_cast<size_t>((y * 32 + x) * 3 + ch)] != want;
                }
            }
        }
        EXPECT_EQ(wrong, 0) << "record " << r;
    }
    // [H, W, C]: the three channels of pixel (0, 1) sit side by side.
    const std::vector<int8_t> first = Int8Input(d.test, 0);
    EXPECT_EQ(first[3], CifarPixel(0, 0, 0, 1) - 128);
    EXPECT_EQ(first[4], CifarPixel(0, 1, 0, 1) - 128);
    EXPECT_EQ(first[5], CifarPixel(0, 2, 0, 1) - 128);
}

TEST(Dataset, LocationsAdvertiseWhatIsPresentUnderItsOwnName) {
    const testing::TempDir tmp;
    const auto mnist = tmp.path() / "mnist";
    const auto cifar = tmp.path() / "cifar";
    const auto empty = tmp.path() / "empty";
    for (const auto& d : {mnist, cifar / "cifar-10-batches-bin", empty}) {
        std::filesystem::create_directories(d);
    }
    WriteMnist(mnist, 4);
    WriteCifar(cifar / "cifar-10-batches-bin", 2);
    EXPECT_TRUE(FilesPresent(FindDataset("mnist"), mnist.string()));
    EXPECT_TRUE(FilesPresent(FindDataset("cifar10"), cifar.string()));
    EXPECT_FALSE(FilesPresent(FindDataset("cifar10"), mnist.string()));
    EXPECT_FALSE(FilesPresent(FindDataset("mnist"), empty.string()));

    const Locations l = Locations::Parse(
        {"mnist=" + mnist.string(), "cifar10=" + cifar.string(), "fashion-mnist=" + empty.string()},
        "datasets");
    EXPECT_EQ(l.DirFor("mnist"), mnist.string());
    // Fashion-MNIST's directory is empty here, whatever the Debian package holds.
    EXPECT_EQ(l.Present(), (std::vector<std::string>{"mnist", "cifar10"}));
    // Without an entry, a dataset lives in its default directory, if it has one.
    EXPECT_EQ(Locations::Parse({}, "datasets").DirFor("fashion-mnist"), kFashionMnistDir);
    EXPECT_EQ(Locations::Parse({}, "datasets").DirFor("mnist"), "");

    for (const auto& [entries, message] :
         std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"mnist"}, "'mnist' must be NAME=DIR"},
             {{"imagenet=/x"}, "unknown dataset 'imagenet' (known: fashion-mnist, mnist, cifar10)"},
             {{"mnist="}, "'mnist' needs a directory"},
             {{"mnist=/a", "mnist=/b"}, "'mnist' is listed twice"}}) {
        const auto e = ErrorOf([&] { Locations::Parse(entries, "datasets"); });
        ASSERT_TRUE(e) << message;
        EXPECT_EQ(e->field(), "datasets");
        EXPECT_EQ(e->message(), message);
    }
}

TEST(Dataset, MissingOrCorruptFilesAreErrorsNamingTheFile) {
    const testing::TempDir tmp;
    const auto dir = tmp.path();
    Options o;
    o.name = "mnist";
    o.path = dir.string();
    auto expect_error = [&](ErrorCode code, const std::string& text) {
        const auto e = ErrorOf([&] { Load(o); });
        ASSERT_TRUE(e) << "no error for " << text;
        EXPECT_EQ(e->code(), code) << e->what();
        EXPECT_EQ(e->field(), "dataset");
        EXPECT_THAT(e->message(), HasSubstr(text));
    };
    expect_error(ErrorCode::kNotFound,
                 (dir / "train-images-idx3-ubyte.gz").string() + " does not exist");

    WriteMnist(dir, 20);
    EXPECT_EQ(Load(o).train.size(), 18);  // the raw files load
    WriteFile(dir / "train-labels-idx1-ubyte", "GIF89a-not-idx");
    expect_error(ErrorCode::kInvalidArgument,
                 (dir / "train-labels-idx1-ubyte").string() + " is corrupt");
    WriteFile(dir / "train-labels-idx1-ubyte", IdxBytes({20}, std::vector<uint8_t>(19, 1)));
    expect_error(ErrorCode::kInvalidArgument, "expected 20 data bytes, found 19");
    WriteFile(dir / "train-labels-idx1-ubyte", IdxBytes({20}, std::vector<uint8_t>(20, 10)));
    expect_error(ErrorCode::kInvalidArgument,
                 (dir / "train-labels-idx1-ubyte").string() + " is corrupt: a label above 9");

    // A truncated gzip stream (the .gz name is preferred to the raw one), of
    // noise so that half the stream cannot hold every pixel.
    WriteMnist(dir, 20);
    std::mt19937 noise(1);
    std::vector<uint8_t> pixels(20 * 28 * 28);
    for (auto& p : pixels) p = static_cast<uint8_t>(noise());
    {
        const auto gz = dir / "train-images-idx3-ubyte.gz";
        WriteGz(gz, IdxBytes({20, 28, 28}, pixels));
        std::ifstream in(gz, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        WriteFile(gz, bytes.substr(0, bytes.size() / 2));
    }
    expect_error(ErrorCode::kInvalidArgument,
                 (dir / "train-images-idx3-ubyte.gz").string() + " is corrupt");
    std::filesystem::remove(dir / "train-images-idx3-ubyte.gz");

    // A CIFAR-10 batch that is not a whole number of records.
    o.name = "cifar10";
    expect_error(ErrorCode::kNotFound, (dir / "data_batch_1.bin").string() + " does not exist");
    WriteCifar(dir, 2);
    std::ofstream(dir / "test_batch.bin", std::ios::binary | std::ios::app) << "xx";
    expect_error(ErrorCode::kInvalidArgument, (dir / "test_batch.bin").string() + " is corrupt");

    // Options the caller got wrong.
    o.name = "mnist";
    o.path.clear();
    auto e = ErrorOf([&] { Load(o); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->field(), "dataset.path");
    o.path = dir.string();
    o.validation_fraction = 1;
    e = ErrorOf([&] { Load(o); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->field(), "dataset.validation_fraction");
}

}  // namespace
}  // namespace hilnas::dataset
