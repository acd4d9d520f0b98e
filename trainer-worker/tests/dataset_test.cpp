// Datasets: the Debian Fashion-MNIST files, synthetic IDX and CIFAR-10 files,
// the seeded split, and errors that name the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>

#include "dataset.h"
#include "hilnas/common/errors.h"
#include "hilnas/testing/idx.h"
#include "test_util.h"

namespace hilnas::trainer {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

using hilnas::testing::IdxBytes;
using hilnas::testing::WriteGz;
// A tiny MNIST-format directory: n training and n test images of 28x28.
void WriteMnist(const std::filesystem::path& dir, uint32_t n) {
    std::vector<uint8_t> pixels(n * 28 * 28), labels(n);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
    for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
    for (const std::string stem : {"train", "t10k"}) {
        WriteGz(dir / (stem + "-images-idx3-ubyte.gz"), IdxBytes({n, 28, 28}, pixels));
        WriteGz(dir / (stem + "-labels-idx1-ubyte.gz"), IdxBytes({n}, labels));
    }
}

TEST(Dataset, FashionMnistFromTheDebianPackageWithASeededSplit) {
    DatasetOptions o;
    o.validation_fraction = 0.1;
    const Dataset a = LoadDataset(o);
    EXPECT_EQ(a.train.size() + a.validation.size(), 60000);
    EXPECT_EQ(a.validation.size(), 6000);
    EXPECT_EQ(a.test.size(), 10000);
    EXPECT_EQ(a.train.images.sizes(), (std::vector<int64_t>{54000, 1, 28, 28}));
    EXPECT_EQ(a.train.images.dtype(), torch::kUInt8);
    EXPECT_EQ(a.shape, (arch::Shape{28, 28, 1}));
    EXPECT_EQ(a.train.labels.max().item<int64_t>(), 9);
    // Every class is in the validation split, and a second load carves the same one.
    EXPECT_EQ(std::get<0>(at::_unique(a.validation.labels)).numel(), 10);
    const Dataset b = LoadDataset(o);
    EXPECT_TRUE(torch::equal(a.validation.images, b.validation.images));
    EXPECT_TRUE(torch::equal(a.train.labels, b.train.labels));
    // Another seed carves another split; limits take subsets.
    o.split_seed = 7;
    o.train_limit = 1000;
    o.test_limit = 500;
    const Dataset c = LoadDataset(o);
    EXPECT_FALSE(torch::equal(a.validation.labels, c.validation.labels));
    EXPECT_EQ(c.train.size(), 1000);
    EXPECT_EQ(c.test.size(), 500);
}

TEST(Dataset, InputsAreWhatTheFirmwareReceives) {
    const torch::Tensor pixels =
        torch::arange(0, 256, torch::kLong).to(torch::kUInt8).view({1, 1, 16, 16});
    const torch::Tensor real = ToReal(pixels);
    // int8 = round(real / scale) + zero_point == pixel - 128, exactly.
    const torch::Tensor q = torch::round(real.to(torch::kFloat64) / kInputScale) + kInputZeroPoint;
    EXPECT_TRUE(torch::equal(q.to(torch::kLong), pixels.to(torch::kLong) - 128));
}

TEST(Dataset, MnistFormatAtAUserPath) {
    const auto dir = testing::TempDir("mnist");
    WriteMnist(dir, 50);
    DatasetOptions o;
    o.name = "mnist";
    o.path = dir.string();
    o.validation_fraction = 0.2;
    const Dataset d = LoadDataset(o);
    EXPECT_EQ(d.train.size(), 40);
    EXPECT_EQ(d.validation.size(), 10);
    EXPECT_FALSE(d.augment_flip);
    const torch::Tensor raw = ReadIdx((dir / "t10k-images-idx3-ubyte.gz").string());
    EXPECT_TRUE(torch::equal(d.test.images.squeeze(1), raw));
    std::filesystem::remove_all(dir);
}

TEST(Dataset, MissingOrCorruptFilesAreErrorsNamingTheFile) {
    const auto dir = testing::TempDir("bad");
    DatasetOptions o;
    o.name = "mnist";
    o.path = dir.string();
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }),
                HasSubstr((dir / "train-images-idx3-ubyte.gz").string() + " does not exist"));
    WriteMnist(dir, 20);
    // A bad magic number.
    WriteGz(dir / "train-labels-idx1-ubyte.gz", "GIF89a-not-idx");
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }),
                HasSubstr((dir / "train-labels-idx1-ubyte.gz").string() + " is corrupt"));
    // Too few bytes for the header's count.
    WriteGz(dir / "train-labels-idx1-ubyte.gz", IdxBytes({20}, std::vector<uint8_t>(19, 1)));
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }), HasSubstr("expected 20 data bytes, found 19"));
    // A truncated gzip stream.
    WriteMnist(dir, 20);
    {
        const auto path = dir / "train-images-idx3-ubyte.gz";
        std::ifstream in(path, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        std::ofstream(path, std::ios::binary | std::ios::trunc)
            << bytes.substr(0, bytes.size() / 2);
    }
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }),
                HasSubstr((dir / "train-images-idx3-ubyte.gz").string()));
    o.name = "imagenet";
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }), HasSubstr("unknown dataset 'imagenet'"));
    std::filesystem::remove_all(dir);
}

TEST(Dataset, Cifar10BinaryBatches) {
    const auto dir = testing::TempDir("cifar") / "cifar-10-batches-bin";
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, int records, int label0) {
        std::string bytes;
        for (int r = 0; r < records; ++r) {
            bytes.push_back(static_cast<char>((label0 + r) % 10));
            for (int i = 0; i < 3072; ++i)
                bytes.push_back(static_cast<char>((r + i / 1024) & 0xff));
        }
        std::ofstream(dir / name, std::ios::binary) << bytes;
    };
    for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", 4, b);
    write("test_batch.bin", 3, 0);
    DatasetOptions o;
    o.name = "cifar10";
    o.path = dir.parent_path().string();
    o.validation_fraction = 0.25;
    const Dataset d = LoadDataset(o);
    EXPECT_EQ(d.shape, (arch::Shape{32, 32, 3}));
    EXPECT_EQ(d.train.size() + d.validation.size(), 20);
    EXPECT_EQ(d.test.size(), 3);
    EXPECT_EQ(d.test.images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
    // Channel planes: record r has value r + channel everywhere in that plane.
    EXPECT_EQ(d.test.images[2][1][5][7].item<int>(), 3);
    EXPECT_EQ(d.test.labels[2].item<int64_t>(), 2);
    std::ofstream(dir / "test_batch.bin", std::ios::binary | std::ios::app) << "xx";
    EXPECT_THAT(ErrorOf([&] { LoadDataset(o); }),
                HasSubstr((dir / "test_batch.bin").string() + " is corrupt"));
    std::filesystem::remove_all(dir.parent_path());
}

TEST(Dataset, AugmentationKeepsShapeAndContent) {
    torch::manual_seed(3);
    const torch::Tensor x = torch::randint(0, 255, {64, 1, 28, 28}).to(torch::kUInt8);
    const torch::Tensor y = Augment(x, 2, true);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_FALSE(torch::equal(x, y));
    EXPECT_TRUE(torch::equal(Augment(x, 0, false), x));
}

}  // namespace
}  // namespace hilnas::trainer
