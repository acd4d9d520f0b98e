// The int8 kernels against an independent oracle. This one source is compiled
// twice: nn_kernels_reference_test links the reference kernels,
// nn_kernels_optimized_test the Cortex-M kernels with the portable intrinsics;
// both must pass unchanged, so the two builds agree bit-exactly.
//
// The oracle below is written from TFLite's definitions (gemmlowp's fixed-point
// functions, reference_integer_ops) with int64 arithmetic and naive NHWC loops
// over explicit padding. It never calls the runtime to produce an expected value.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "hilnas_nn/nn_functions.h"
#include "hilnas_nn/nn_quant.h"

namespace {

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// ---------------------------------------------------------------------------
// The oracle's arithmetic.

// Two's-complement truncation to int32 (TFLite's int32 arithmetic on its
// targets).
int32_t Wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

// gemmlowp::SaturatingRoundingDoublingHighMul, as gemmlowp writes it.
int32_t OracleDoublingHighMul(int32_t a, int32_t b) {
    const bool overflow = a == b && a == kInt32Min;
    const int64_t ab = static_cast<int64_t>(a) * b;
    const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
    const auto high = static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
    return overflow ? kInt32Max : high;
}

// gemmlowp::RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero.
int32_t OracleDivideByPot(int32_t x, int e) {
    if (e == 0) {
        return x;
    }
    const int64_t magnitude = x < 0 ? -static_cast<int64_t>(x) : x;
    const int64_t quotient = (magnitude + (int64_t{1} << (e - 1))) >> e;
    return static_cast<int32_t>(x < 0 ? -quotient : quotient);
}

// tflite::MultiplyByQuantizedMultiplier; x * (1 << left_shift) wraps.
int32_t OracleRequantize(int32_t acc, int32_t multiplier, int32_t shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t shifted = Wrap32(static_cast<int64_t>(acc) * (int64_t{1} << left));
    return OracleDivideByPot(OracleDoublingHighMul(shifted, multiplier), right);
}

int8_t OracleClamp(int32_t v, int32_t lo, int32_t hi) {
    return static_cast<int8_t>(std::min(std::max(v, lo), hi));
}

// The per-channel output of conv, depthwise and fully connected, from the exact
// sum of products.
int8_t OracleOutput(int64_t sum, int32_t bias, int32_t multiplier, int32_t shift,
                    int32_t output_offset, nn_activation act) {
    int32_t acc = Wrap32(sum + bias);
    acc = OracleRequantize(acc, multiplier, shift);
    acc = Wrap32(static_cast<int64_t>(acc) + output_offset);
    return OracleClamp(acc, act.min, act.max);
}

// TFLite's pooling division: (acc +- count / 2) / count in int32.
int32_t OracleRoundingDivide(int32_t acc, int32_t count) {
    const int32_t biased = acc > 0 ? Wrap32(static_cast<int64_t>(acc) + count / 2)
                                   : Wrap32(static_cast<int64_t>(acc) - count / 2);
    return biased / count;
}

int64_t Index(const nn_dims& d, int32_t b, int32_t y, int32_t x, int32_t c) {
    return ((static_cast<int64_t>(b) * d.h + y) * d.w + x) * d.c + c;
}

int64_t Count(const nn_dims& d) { return static_cast<int64_t>(d.n) * d.h * d.w * d.c; }

// ---------------------------------------------------------------------------
// Random test data, biased towards the edges.

class Rng {
  public:
    explicit Rng(uint64_t seed) : gen_(seed) {}

    int32_t Int(int64_t lo, int64_t hi) {
        return static_cast<int32_t>(std::uniform_int_distribution<int64_t>(lo, hi)(gen_));
    }
    bool Chance(double p) { return std::bernoulli_distribution(p)(gen_); }
    template <typename T>
    T Pick(std::initializer_list<T> values) {
        return *(values.begin() + Int(0, static_cast<int64_t>(values.size()) - 1));
    }
    double Real(double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(gen_);
    }

    // int8 data: a quarter from the edges.
    std::vector<int8_t> S8s(int64_t n, int32_t lo = -128, int32_t hi = 127) {
        // Some tensors are all extremes, most mixed.
        const int mode = Int(0, 9);
        std::vector<int8_t> v(static_cast<size_t>(n));
        for (auto& x : v) {
            int32_t value;
            if (mode == 0) {
                value = Chance(0.5) ? lo : hi;
            } else if (Chance(0.25)) {
                value = Pick<int32_t>({lo, hi, 0, -1, 1});
            } else {
                value = Int(lo, hi);
            }
            x = static_cast<int8_t>(value);
        }
        return v;
    }
    std::vector<int8_t> S4s(int64_t n) { return S8s(n, -8, 7); }

    int32_t InputOffset() { return Chance(0.2) ? Pick<int32_t>({-128, 128, 0}) : Int(-128, 128); }
    int32_t OutputOffset() { return Chance(0.2) ? Pick<int32_t>({-128, 127, 0}) : Int(-128, 127); }

    // A multiplier as nn_quantize_multiplier makes them.
    int32_t Multiplier() {
        if (Chance(0.1)) {
            return Pick<int32_t>({1 << 30, kInt32Max, 0});
        }
        return Int(int64_t{1} << 30, kInt32Max);
    }

    // Half the time a shift that maps a sum of `depth` products of magnitude
    // ~`term` to tens of output units (so outputs are not all clamped); else any
    // shift of the valid range.
    int32_t Shift(int64_t depth, double term) {
        if (Chance(0.5)) {
            return Int(-31, 30);
        }
        const double typical = std::sqrt(static_cast<double>(depth)) * term + 1.0;
        const int shift = static_cast<int>(std::ceil(std::log2(40.0 / typical))) + Int(-1, 1);
        return std::min(30, std::max(-31, shift));
    }

    // Biases: sometimes none (NULL), otherwise a tenth from the int32 edges.
    std::vector<int32_t> Bias(int32_t n, int64_t depth, double term) {
        if (Chance(0.15)) {
            return {};
        }
        const auto scale =
            static_cast<int64_t>(4 * std::sqrt(static_cast<double>(depth)) * term) + 1;
        std::vector<int32_t> v(static_cast<size_t>(n));
        for (auto& b : v) {
            b = Chance(0.1) ? Pick<int32_t>({kInt32Min, kInt32Max, kInt32Min + 1, kInt32Max - 1})
                            : Int(-scale, scale);
        }
        return v;
    }

    // None, relu, relu6-like or an arbitrary range, around the output zero point.
    nn_activation Activation(int32_t output_offset) {
        switch (Int(0, 3)) {
            case 0:
                return {-128, 127};
            case 1:
                return {output_offset, 127};
            case 2:
                return {output_offset, std::min(127, output_offset + Int(0, 100))};
            default: {
                const int32_t a = Int(-128, 127), b = Int(-128, 127);
                return {std::min(a, b), std::max(a, b)};
            }
        }
    }

  private:
    std::mt19937_64 gen_;
};

constexpr double kS8Term = 74.0 * 74.0;  // typical |weight * (input + offset)|, int8
constexpr double kS4Term = 4.6 * 74.0;   // the same with int4 weights

// Pads and output size of one spatial axis: TFLite's VALID or SAME, or (free)
// any padding below the window with any output count that starts inside the
// padded input.
struct Axis {
    int32_t pad;
    int32_t out;
};

Axis RandomAxis(Rng& rng, int32_t in, int32_t k, int32_t stride, int32_t max_free_pad) {
    const int mode = rng.Int(0, 2);
    if (mode == 0 && in >= k) {
        return {0, (in - k) / stride + 1};
    }
    if (mode <= 1) {
        const int32_t out = (in + stride - 1) / stride;
        const int32_t total = std::max((out - 1) * stride + k - in, 0);
        return {total / 2, out};
    }
    const int32_t pad = rng.Int(0, max_free_pad);
    const int32_t span = in + 2 * pad - k;
    return {pad, rng.Int(1, span >= 0 ? span / stride + 1 : 1)};
}

// Scratch for one call: exactly the requested bytes, 4-byte aligned, filled with
// garbage, followed by a guard that must stay untouched.
class Scratch {
  public:
    explicit Scratch(int32_t size, uint32_t garbage = 0xA5C3E1F7u)
        : size_(size), words_(static_cast<size_t>((size + 3) / 4 + kGuardWords), garbage) {
        ctx_.buf = size > 0 ? words_.data() : nullptr;
        ctx_.size = size;
    }
    const nn_context* ctx() const { return &ctx_; }
    bool GuardIntact() const {
        const auto* bytes = reinterpret_cast<const uint8_t*>(words_.data());
        uint8_t expected[4];
        std::memcpy(expected, words_.data() + words_.size() - 1, 4);  // never written
        for (size_t i = static_cast<size_t>(size_); i < words_.size() * 4; ++i) {
            if (bytes[i] != expected[i % 4]) {
                return false;
            }
        }
        return true;
    }

  private:
    static constexpr int kGuardWords = 16;
    int32_t size_;
    std::vector<uint32_t> words_;
    nn_context ctx_{};
};

// An output buffer with a guard after it.
class Output {
  public:
    explicit Output(int64_t count) : count_(count), bytes_(static_cast<size_t>(count + 16), 0x5A) {}
    int8_t* data() { return bytes_.data(); }
    std::vector<int8_t> values() const {
        return {bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(count_)};
    }
    bool GuardIntact() const {
        return std::all_of(bytes_.begin() + static_cast<std::ptrdiff_t>(count_), bytes_.end(),
                           [](int8_t b) { return b == 0x5A; });
    }

  private:
    int64_t count_;
    std::vector<int8_t> bytes_;
};

std::string Str(const nn_dims& d) {
    std::ostringstream s;
    s << "[" << d.n << "," << d.h << "," << d.w << "," << d.c << "]";
    return s.str();
}

// Equal byte for byte; otherwise names the first difference.
::testing::AssertionResult BytesEqual(const std::vector<int8_t>& got,
                                      const std::vector<int8_t>& want) {
    if (got.size() != want.size()) {
        return ::testing::AssertionFailure() << got.size() << " bytes, want " << want.size();
    }
    for (size_t i = 0; i < want.size(); ++i) {
        if (got[i] != want[i]) {
            const auto differing = std::inner_product(
                got.begin(), got.end(), want.begin(), size_t{0}, std::plus<>(),
                [](int8_t a, int8_t b) { return a != b ? size_t{1} : size_t{0}; });
            return ::testing::AssertionFailure()
                   << differing << " of " << want.size() << " bytes differ; the first, element "
                   << i << ", is " << int{got[i]} << ", want " << int{want[i]};
        }
    }
    return ::testing::AssertionSuccess();
}

// Packs int4 values the documented way, written independently of nn_pack_s4:
// each row from a byte boundary, value 2j in the low nibble of byte j.
std::vector<int8_t> PackRows(const std::vector<int8_t>& values, int32_t rows, int32_t row_len) {
    const int32_t row_bytes = (row_len + 1) / 2;
    std::vector<uint8_t> packed(static_cast<size_t>(rows) * row_bytes, 0);
    for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < row_len; ++k) {
            const auto nibble =
                static_cast<uint8_t>(values[static_cast<size_t>(r) * row_len + k] & 0xF);
            packed[static_cast<size_t>(r) * row_bytes + k / 2] |=
                static_cast<uint8_t>(k % 2 == 0 ? nibble : nibble << 4);
        }
    }
    return {packed.begin(), packed.end()};
}

// Packs int8 rows in the documented sparse layout, written independently of
// nn_pack_sparse_s8: every row's bitmap (weight k at bit 7 - k % 8 of byte
// k / 8), then the non-zero values row after row.
std::vector<int8_t> PackSparse(const std::vector<int8_t>& values, int32_t rows, int32_t row_len) {
    const int32_t bitmap_bytes = (row_len + 7) / 8;
    std::vector<uint8_t> bitmaps(static_cast<size_t>(rows) * bitmap_bytes, 0);
    std::vector<int8_t> nonzero;
    for (int32_t r = 0; r < rows; ++r) {
        for (int32_t k = 0; k < row_len; ++k) {
            const int8_t v = values[static_cast<size_t>(r) * row_len + k];
            if (v != 0) {
                bitmaps[static_cast<size_t>(r) * bitmap_bytes + k / 8] |=
                    static_cast<uint8_t>(0x80u >> (k % 8));
                nonzero.push_back(v);
            }
        }
    }
    std::vector<int8_t> packed(bitmaps.begin(), bitmaps.end());
    packed.insert(packed.end(), nonzero.begin(), nonzero.end());
    return packed;
}

// The sparsities the sparse kernels are tested at (fractions of zero weights).
constexpr double kSparsities[] = {0.0, 0.5, 0.7, 0.8, 0.95};

// Makes exactly round(fraction * size) of the weights zero, at random places,
// and the rest non-zero; then, with probability zero_row_chance each, a whole
// row of row_len weights zero.
void Sparsify(Rng& rng, std::vector<int8_t>* weights, int32_t row_len, double fraction,
              double zero_row_chance = 0.1) {
    std::vector<size_t> order(weights->size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::shuffle(order.begin(), order.end(),
                 std::mt19937_64(static_cast<uint64_t>(rng.Int(0, 1 << 30))));
    const auto zeros =
        static_cast<size_t>(std::llround(fraction * static_cast<double>(order.size())));
    for (size_t i = 0; i < order.size(); ++i) {
        int8_t& w = (*weights)[order[i]];
        if (i < zeros) {
            w = 0;
        } else if (w == 0) {
            w = static_cast<int8_t>(rng.Pick<int32_t>({1, -1, 127, -128}));
        }
    }
    for (size_t row = 0; row * static_cast<size_t>(row_len) < weights->size(); ++row) {
        if (rng.Chance(zero_row_chance)) {
            std::fill_n(weights->begin() + static_cast<std::ptrdiff_t>(row * row_len), row_len,
                        int8_t{0});
        }
    }
}

// ---------------------------------------------------------------------------
// Requantisation and quantisation helpers.

TEST(NnQuant, DoublingHighMulCornerCases) {
    // The only overflow: (-2^31)^2 * 2 / 2^32 = 2^31, saturated.
    EXPECT_EQ(nn_doubling_high_mult_s32(kInt32Min, kInt32Min), kInt32Max);
    // -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1), exact.
    EXPECT_EQ(nn_doubling_high_mult_s32(kInt32Min, kInt32Max), -kInt32Max);
    // (2^31 - 1)^2 / 2^31 = 2^31 - 2 + 2^-31: rounds to 2^31 - 2.
    EXPECT_EQ(nn_doubling_high_mult_s32(kInt32Max, kInt32Max), kInt32Max - 1);
    // Ties go towards +infinity: 0.5 -> 1, -0.5 -> 0, -1.5 -> -1, 1.5 -> 2.
    EXPECT_EQ(nn_doubling_high_mult_s32(1, 1 << 30), 1);
    EXPECT_EQ(nn_doubling_high_mult_s32(-1, 1 << 30), 0);
    EXPECT_EQ(nn_doubling_high_mult_s32(-3, 1 << 30), -1);
    EXPECT_EQ(nn_doubling_high_mult_s32(3, 1 << 30), 2);
    // Not a tie: -5 * 2^29 / 2^31 = -1.25 -> -1; 7 * 2^29 / 2^31 = 1.75 -> 2.
    EXPECT_EQ(nn_doubling_high_mult_s32(-5, 1 << 29), -1);
    EXPECT_EQ(nn_doubling_high_mult_s32(7, 1 << 29), 2);
    EXPECT_EQ(nn_doubling_high_mult_s32(0, kInt32Min), 0);
}

TEST(NnQuant, DivideByPowerOfTwoRoundsHalfAwayFromZero) {
    EXPECT_EQ(nn_divide_by_power_of_two_s32(3, 1), 2);    // 1.5
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-3, 1), -2);  // -1.5
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-5, 2), -1);  // -1.25
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-6, 2), -2);  // -1.5
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-7, 2), -2);  // -1.75
    EXPECT_EQ(nn_divide_by_power_of_two_s32(5, 2), 1);    // 1.25
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-1, 1), -1);  // -0.5
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-1, 2), 0);   // -0.25
    EXPECT_EQ(nn_divide_by_power_of_two_s32(kInt32Min, 31), -1);
    EXPECT_EQ(nn_divide_by_power_of_two_s32(kInt32Max, 31), 1);  // 0.99999...
    EXPECT_EQ(nn_divide_by_power_of_two_s32(kInt32Min, 0), kInt32Min);
    EXPECT_EQ(nn_divide_by_power_of_two_s32(kInt32Max, 0), kInt32Max);
    EXPECT_EQ(nn_divide_by_power_of_two_s32(1 << 30, 31), 1);      // exactly 0.5
    EXPECT_EQ(nn_divide_by_power_of_two_s32(-(1 << 30), 31), -1);  // exactly -0.5
}

TEST(NnQuant, RequantizeWorkedExamples) {
    // 100 * 0.5 = 50 (multiplier 2^30 is 0.5, shift 0).
    EXPECT_EQ(nn_requantize_s32(100, 1 << 30, 0), 50);
    // -100 * 0.25 = -25.
    EXPECT_EQ(nn_requantize_s32(-100, 1 << 30, -1), -25);
    // Double rounding, as TFLite: -3 * 0.25: high mul gives -1.5 -> -1, then
    // -1 / 2 = -0.5 -> -1.
    EXPECT_EQ(nn_requantize_s32(-3, 1 << 30, -1), -1);
    // -1 * 0.25: high mul -0.5 -> 0, so 0.
    EXPECT_EQ(nn_requantize_s32(-1, 1 << 30, -1), 0);
    // 3 * 1.0 (multiplier 2^30, shift 1): 6 * 0.5 = 3.
    EXPECT_EQ(nn_requantize_s32(3, 1 << 30, 1), 3);
    // The left shift wraps: (2^31 - 1) << 1 = -2 (mod 2^32), * 0.5 = -1.
    EXPECT_EQ(nn_requantize_s32(kInt32Max, 1 << 30, 1), -1);
    // INT32_MIN * INT32_MIN saturates before the right shift: (2^31 - 1) / 2^31
    // = 0.99999... -> 1.
    EXPECT_EQ(nn_requantize_s32(kInt32Min, kInt32Min, -31), 1);
    EXPECT_EQ(nn_requantize_s32(kInt32Min, kInt32Min, 0), kInt32Max);
    // The smallest shift: 2^31 - 1 times ~1 / 2^31 -> 1; INT32_MIN -> -1.
    EXPECT_EQ(nn_requantize_s32(kInt32Max, kInt32Max, -31), 1);
    EXPECT_EQ(nn_requantize_s32(kInt32Min, kInt32Max, -31), -1);
    // The largest shift: 1 << 30 = 2^30, * 0.5 = 2^29.
    EXPECT_EQ(nn_requantize_s32(1, 1 << 30, 30), 1 << 29);
}

TEST(NnQuant, RequantizeMatchesOracleOnRandomValues) {
    Rng rng(1);
    for (int i = 0; i < 200000; ++i) {
        const int32_t acc = rng.Chance(0.1)
                                ? rng.Pick<int32_t>({kInt32Min, kInt32Max, 0, -1, 1, kInt32Min + 1})
                                : rng.Int(kInt32Min, kInt32Max) >> rng.Int(0, 31);
        const int32_t multiplier =
            rng.Chance(0.05) ? rng.Int(kInt32Min, kInt32Max) : rng.Multiplier();
        const int32_t shift = rng.Int(-31, 30);
        ASSERT_EQ(nn_requantize_s32(acc, multiplier, shift),
                  OracleRequantize(acc, multiplier, shift))
            << "acc " << acc << " multiplier " << multiplier << " shift " << shift;
    }
}

TEST(NnQuant, QuantizeMultiplierWorkedExamples) {
    struct Example {
        double real;
        int32_t multiplier;
        int32_t shift;
    };
    const Example examples[] = {
        {0.0, 0, 0},
        {-0.0, 0, 0},
        {1.0, 1 << 30, 1},               // 0.5 * 2^1: 0.5 * 2^31 = 2^30
        {0.5, 1 << 30, 0},               // 0.5 * 2^0
        {0.75, 1610612736, 0},           // 0.75 * 2^31
        {3.0, 1610612736, 2},            // 0.75 * 2^2
        {0.1, 1717986918, -3},           // 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4
        {0.3, 1288490189, -1},           // 0.6 * 2^-1; 0.6 * 2^31 = 1288490188.8
        {0.5 + 0x1p-32, 1073741825, 0},  // 2^30 + 0.5 exactly: ties away from zero
        {1.0 - 0x1p-40, 1 << 30, 1},     // 2^31 - 2^-9 rounds to 2^31: halved, shift + 1
        {0x1p-31, 1 << 30, -30},         // 0.5 * 2^-30
        {0x1p-32, 1 << 30, -31},         // 0.5 * 2^-31: the smallest shift kept
        {0x1p-33, 0, 0},                 // shift -32: flushed to zero
        {0x1p-1070, 0, 0},               // subnormal
        {0x1p29, 1 << 30, 30},           // 0.5 * 2^30: the largest shift
    };
    for (const Example& e : examples) {
        int32_t multiplier = -7, shift = -7;
        ASSERT_EQ(nn_quantize_multiplier(e.real, &multiplier, &shift), NN_OK) << e.real;
        EXPECT_EQ(multiplier, e.multiplier) << e.real;
        EXPECT_EQ(shift, e.shift) << e.real;
    }
}

TEST(NnQuant, QuantizeMultiplierRejectsWhatCannotBeRepresented) {
    int32_t multiplier = 11, shift = 12;
    for (const double real : {-0.5, -0x1p-40, std::numeric_limits<double>::infinity(),
                              -std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::quiet_NaN(), 0x1p30, 1e300}) {
        EXPECT_EQ(nn_quantize_multiplier(real, &multiplier, &shift), NN_ARG_ERROR) << real;
        EXPECT_EQ(multiplier, 11);
        EXPECT_EQ(shift, 12);
    }
    EXPECT_EQ(nn_quantize_multiplier(0.5, nullptr, &shift), NN_ARG_ERROR);
    EXPECT_EQ(nn_quantize_multiplier(0.5, &multiplier, nullptr), NN_ARG_ERROR);
}

// TFLite's QuantizeMultiplier, literally (std::frexp, std::round).
void OracleQuantizeMultiplier(double real, int32_t* multiplier, int32_t* shift) {
    int exponent = 0;
    const double q = std::frexp(real, &exponent);
    auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
    if (q_fixed == (int64_t{1} << 31)) {
        q_fixed /= 2;
        ++exponent;
    }
    if (exponent < -31) {
        exponent = 0;
        q_fixed = 0;
    }
    *multiplier = static_cast<int32_t>(q_fixed);
    *shift = exponent;
}

TEST(NnQuant, QuantizeMultiplierMatchesTfliteOnRandomReals) {
    Rng rng(2);
    for (int i = 0; i < 100000; ++i) {
        const double real = std::ldexp(rng.Real(0.5, 1.0), rng.Int(-40, 29));
        int32_t multiplier = 0, shift = 0, want_multiplier = 0, want_shift = 0;
        ASSERT_EQ(nn_quantize_multiplier(real, &multiplier, &shift), NN_OK) << real;
        OracleQuantizeMultiplier(real, &want_multiplier, &want_shift);
        ASSERT_EQ(multiplier, want_multiplier) << real;
        ASSERT_EQ(shift, want_shift) << real;
    }
}

TEST(NnQuant, PacksFourBitRowsFromByteBoundaries) {
    // Two rows of three: {1, -1, 7}, {-8, 0, 2} -> 0xF1 0x07 | 0x08 0x02.
    const int8_t values[] = {1, -1, 7, -8, 0, 2};
    int8_t packed[4] = {};
    ASSERT_EQ(nn_pack_s4(values, 2, 3, packed), NN_OK);
    EXPECT_EQ(static_cast<uint8_t>(packed[0]), 0xF1);
    EXPECT_EQ(static_cast<uint8_t>(packed[1]), 0x07);
    EXPECT_EQ(static_cast<uint8_t>(packed[2]), 0x08);
    EXPECT_EQ(static_cast<uint8_t>(packed[3]), 0x02);
    EXPECT_EQ(nn_s4_row_bytes(3), 2);
    EXPECT_EQ(nn_s4_row_bytes(8), 4);
    EXPECT_EQ(nn_s4_row_bytes(0), 0);

    Rng rng(3);
    for (int i = 0; i < 200; ++i) {
        const int32_t rows = rng.Int(1, 5), row_len = rng.Int(1, 21);
        const auto v = rng.S4s(int64_t{rows} * row_len);
        std::vector<int8_t> got(static_cast<size_t>(rows * nn_s4_row_bytes(row_len)));
        ASSERT_EQ(nn_pack_s4(v.data(), rows, row_len, got.data()), NN_OK);
        EXPECT_EQ(got, PackRows(v, rows, row_len));
    }
    const int8_t out_of_range[] = {0, 8};
    EXPECT_EQ(nn_pack_s4(out_of_range, 1, 2, packed), NN_ARG_ERROR);
    EXPECT_EQ(nn_pack_s4(values, 0, 3, packed), NN_ARG_ERROR);
}

// The sparse layout, worked by hand: a 2 x 10 filter.
TEST(NnQuant, PacksSparseRowsAsBitmapsThenValues) {
    const std::vector<int8_t> values = {0, 5, 0, 0, 0, 0, 0, -1, 0, 9,  //
                                        0, 0, 0, 0, 0, 0, 0, 0,  0, 0};
    const std::vector<int8_t> want = {static_cast<int8_t>(0x41),
                                      static_cast<int8_t>(0x40),  // row 0: weights 1, 7 | 9
                                      0,
                                      0,  // row 1: none
                                      5,
                                      -1,
                                      9};
    std::vector<int8_t> packed(want.size() + 4, 0x33);
    EXPECT_EQ(nn_sparse_bitmap_bytes(10), 2);
    EXPECT_EQ(nn_sparse_s8_bytes(2, 10, 3), static_cast<int32_t>(want.size()));
    ASSERT_EQ(nn_pack_sparse_s8(values.data(), 2, 10, packed.data()), NN_OK);
    EXPECT_EQ(std::vector<int8_t>(packed.begin(), packed.begin() + 7), want);
    EXPECT_EQ(packed[7], 0x33) << "wrote past the layout";
    EXPECT_EQ(nn_pack_sparse_s8(nullptr, 2, 10, packed.data()), NN_ARG_ERROR);
    EXPECT_EQ(nn_pack_sparse_s8(values.data(), 0, 10, packed.data()), NN_ARG_ERROR);
    EXPECT_EQ(nn_pack_sparse_s8(values.data(), 2, 10, nullptr), NN_ARG_ERROR);
    // One bit per weight, a byte per non-zero one; rejected counts give 0.
    EXPECT_EQ(nn_sparse_s8_bytes(16, 144, 0), 16 * 18);
    EXPECT_EQ(nn_sparse_s8_bytes(16, 144, 16 * 144), 16 * 18 + 16 * 144);
    EXPECT_EQ(nn_sparse_s8_bytes(16, 144, 16 * 144 + 1), 0);
    EXPECT_EQ(nn_sparse_s8_bytes(16, 144, -1), 0);
    EXPECT_EQ(nn_sparse_s8_bytes(0, 144, 0), 0);
}

// The library's packer and the test's agree on random sparse rows.
TEST(NnQuant, PackSparseMatchesTheDocumentedLayout) {
    Rng rng(9);
    for (int i = 0; i < 200; ++i) {
        const int32_t rows = rng.Int(1, 6), row_len = rng.Int(1, 70);
        std::vector<int8_t> values = rng.S8s(int64_t{rows} * row_len);
        Sparsify(rng, &values, row_len, rng.Real(0, 1), 0.2);
        const auto want = PackSparse(values, rows, row_len);
        const auto nonzeros =
            std::count_if(values.begin(), values.end(), [](int8_t v) { return v != 0; });
        ASSERT_EQ(nn_sparse_s8_bytes(rows, row_len, static_cast<int32_t>(nonzeros)),
                  static_cast<int32_t>(want.size()));
        std::vector<int8_t> got(want.size());
        ASSERT_EQ(nn_pack_sparse_s8(values.data(), rows, row_len, got.data()), NN_OK);
        ASSERT_EQ(got, want) << rows << " x " << row_len;
    }
}

// ---------------------------------------------------------------------------
// Scratch sizes: the same formulas in both builds.

TEST(NnBufferSizes, FollowTheDocumentedFormulas) {
    const nn_dims input = {2, 9, 7, 12};
    const nn_dims filter = {5, 3, 2, 12};
    EXPECT_EQ(nn_convolve_s8_get_buffer_size(&input, &filter), 4 * 3 * 2 * 12);
    EXPECT_EQ(nn_convolve_s4_get_buffer_size(&input, &filter), 4 * 3 * 2 * 12);
    EXPECT_EQ(nn_convolve_1x1_s8_get_buffer_size(&input, &filter), 0);  // not a 1x1 window
    EXPECT_EQ(nn_convolve_sparse_s8_get_buffer_size(&input, &filter), 8 * (3 * 2 * 12 + 3 * 2));
    const nn_dims pointwise = {5, 1, 1, 12};
    EXPECT_EQ(nn_convolve_1x1_s8_get_buffer_size(&input, &pointwise), 4 * 12);
    EXPECT_EQ(nn_convolve_s8_get_buffer_size(&input, &pointwise), 4 * 12);
    const nn_dims dw_filter = {1, 3, 3, 24};
    const nn_dims too_deep_window = {1, 256, 256, 24};
    EXPECT_EQ(nn_depthwise_conv_s8_get_buffer_size(&input, &dw_filter), 0);
    EXPECT_EQ(nn_depthwise_conv_in_place_s8_get_buffer_size(&input, &dw_filter),
              2 * (3 * 4 + (9 + 2) * (7 + 2) + 2));
    const nn_dims dw_5x4 = {1, 5, 4, 24};
    EXPECT_EQ(nn_depthwise_conv_in_place_s8_get_buffer_size(&input, &dw_5x4),
              2 * (5 * 4 + (9 + 4) * (7 + 3) + 2));
    EXPECT_EQ(nn_depthwise_conv_s4_get_buffer_size(&input, &dw_filter), 8 * 3 * 3);
    EXPECT_EQ(nn_depthwise_conv_s4_get_buffer_size(&input, &too_deep_window), 0);
    const nn_dims window = {1, 2, 2, 1};
    EXPECT_EQ(nn_max_pool_s8_get_buffer_size(&input, &window), 0);
    EXPECT_EQ(nn_avg_pool_s8_get_buffer_size(&input, &window), 0);
    EXPECT_EQ(nn_global_avg_pool_s8_get_buffer_size(&input), 0);
    const nn_dims fc_filter = {10, 1, 1, 9 * 7 * 12};
    EXPECT_EQ(nn_fully_connected_s8_get_buffer_size(&input, &fc_filter), 2 * 9 * 7 * 12);
    EXPECT_EQ(nn_fully_connected_s4_get_buffer_size(&input, &fc_filter), 2 * 9 * 7 * 12);
    EXPECT_EQ(nn_fully_connected_sparse_s8_get_buffer_size(&input, &fc_filter), 2 * 9 * 7 * 12);
    EXPECT_EQ(nn_add_s8_get_buffer_size(&input), 0);
    // Shapes a kernel rejects need nothing.
    const nn_dims too_deep = {1, 256, 256, 2};
    EXPECT_EQ(nn_convolve_s8_get_buffer_size(&input, &too_deep), 0);
    EXPECT_EQ(nn_convolve_s8_get_buffer_size(nullptr, &filter), 0);
    EXPECT_EQ(nn_convolve_sparse_s8_get_buffer_size(&input, &too_deep), 0);
    EXPECT_EQ(nn_fully_connected_s8_get_buffer_size(nullptr, &fc_filter), 0);
}

// ---------------------------------------------------------------------------
// Convolution (general, 1x1, 4-bit).

enum class ConvKind { kS8, k1x1, kS4, kSparse };  // kSparse: nn_convolve_sparse_s8

struct ConvCase {
    nn_dims in{}, filter{}, out{};
    nn_conv_params params{};
    std::vector<int8_t> input, weights;  // weights unpacked, OHWI
    std::vector<int32_t> bias, multiplier, shift;

    std::string Describe() const {
        std::ostringstream s;
        s << "in " << Str(in) << " filter " << Str(filter) << " out " << Str(out) << " stride "
          << params.stride.h << "x" << params.stride.w << " pad " << params.padding.h << "x"
          << params.padding.w << " offsets " << params.input_offset << "/" << params.output_offset
          << " act [" << params.activation.min << "," << params.activation.max << "]"
          << (bias.empty() ? " no bias" : "");
        return s.str();
    }
};

// in_c and out_c are drawn when 0.
ConvCase RandomConvCase(Rng& rng, ConvKind kind, int32_t in_c_wanted = 0,
                        int32_t out_c_wanted = 0) {
    ConvCase c;
    const int32_t in_c = in_c_wanted > 0   ? in_c_wanted
                         : rng.Chance(0.5) ? rng.Pick<int32_t>({4, 8, 16, 3})
                                           : rng.Int(1, 19);
    const int32_t k_h = kind == ConvKind::k1x1 ? 1 : rng.Pick<int32_t>({1, 2, 3, 3, 5});
    const int32_t k_w = kind == ConvKind::k1x1 ? 1 : (rng.Chance(0.6) ? k_h : rng.Int(1, 5));
    c.in = {rng.Int(1, 2), rng.Int(1, 9), rng.Int(1, 9), in_c};
    c.params.stride = {rng.Int(1, 3), rng.Int(1, 3)};
    Axis y{}, x{};
    if (kind == ConvKind::k1x1) {
        y = {0, rng.Int(1, (c.in.h - 1) / c.params.stride.h + 1)};
        x = {0, rng.Int(1, (c.in.w - 1) / c.params.stride.w + 1)};
    } else {
        // Pads up to the window (a window wholly in the padding is allowed).
        y = RandomAxis(rng, c.in.h, k_h, c.params.stride.h, k_h);
        x = RandomAxis(rng, c.in.w, k_w, c.params.stride.w, k_w);
    }
    c.params.padding = {x.pad, y.pad};
    const int32_t out_c = out_c_wanted > 0 ? out_c_wanted : rng.Int(1, 9);
    c.filter = {out_c, k_h, k_w, in_c};
    c.out = {c.in.n, y.out, x.out, out_c};
    c.params.input_offset = rng.InputOffset();
    c.params.output_offset = rng.OutputOffset();
    c.params.activation = rng.Activation(c.params.output_offset);
    c.input = rng.S8s(Count(c.in));
    c.weights = kind == ConvKind::kS4 ? rng.S4s(Count(c.filter)) : rng.S8s(Count(c.filter));
    const int64_t depth = int64_t{k_h} * k_w * in_c;
    const double term = kind == ConvKind::kS4 ? kS4Term : kS8Term;
    c.bias = rng.Bias(out_c, depth, term);
    for (int32_t o = 0; o < out_c; ++o) {
        c.multiplier.push_back(rng.Multiplier());
        c.shift.push_back(rng.Shift(depth, term));
    }
    return c;
}

std::vector<int8_t> OracleConv(const ConvCase& c) {
    std::vector<int8_t> out(static_cast<size_t>(Count(c.out)));
    for (int32_t b = 0; b < c.out.n; ++b) {
        for (int32_t oy = 0; oy < c.out.h; ++oy) {
            for (int32_t ox = 0; ox < c.out.w; ++ox) {
                for (int32_t o = 0; o < c.out.c; ++o) {
                    int64_t sum = 0;
                    for (int32_t ky = 0; ky < c.filter.h; ++ky) {
                        for (int32_t kx = 0; kx < c.filter.w; ++kx) {
                            const int32_t iy = oy * c.params.stride.h - c.params.padding.h + ky;
                            const int32_t ix = ox * c.params.stride.w - c.params.padding.w + kx;
                            if (iy < 0 || iy >= c.in.h || ix < 0 || ix >= c.in.w) {
                                continue;
                            }
                            for (int32_t i = 0; i < c.in.c; ++i) {
                                const int64_t x =
                                    c.input[static_cast<size_t>(Index(c.in, b, iy, ix, i))];
                                const int64_t w =
                                    c.weights[static_cast<size_t>(Index(c.filter, o, ky, kx, i))];
                                sum += w * (x + c.params.input_offset);
                            }
                        }
                    }
                    out[static_cast<size_t>(Index(c.out, b, oy, ox, o))] = OracleOutput(
                        sum, c.bias.empty() ? 0 : c.bias[static_cast<size_t>(o)],
                        c.multiplier[static_cast<size_t>(o)], c.shift[static_cast<size_t>(o)],
                        c.params.output_offset, c.params.activation);
                }
            }
        }
    }
    return out;
}

// Runs one convolution kernel with exactly its scratch; checks the guards.
nn_status RunConv(const ConvCase& c, ConvKind kind, std::vector<int8_t>* result) {
    int32_t size = 0;
    switch (kind) {
        case ConvKind::kS8:
            size = nn_convolve_s8_get_buffer_size(&c.in, &c.filter);
            break;
        case ConvKind::k1x1:
            size = nn_convolve_1x1_s8_get_buffer_size(&c.in, &c.filter);
            break;
        case ConvKind::kS4:
            size = nn_convolve_s4_get_buffer_size(&c.in, &c.filter);
            break;
        case ConvKind::kSparse:
            size = nn_convolve_sparse_s8_get_buffer_size(&c.in, &c.filter);
            break;
    }
    Scratch scratch(size);
    Output out(Count(c.out));
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const int32_t* bias = c.bias.empty() ? nullptr : c.bias.data();
    nn_status status = NN_NO_IMPL_ERROR;
    switch (kind) {
        case ConvKind::kS8:
            status = nn_convolve_s8(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                    &c.filter, c.weights.data(), bias, &c.out, out.data());
            break;
        case ConvKind::k1x1:
            status = nn_convolve_1x1_s8(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                        &c.filter, c.weights.data(), bias, &c.out, out.data());
            break;
        case ConvKind::kS4: {
            const auto packed =
                PackRows(c.weights, c.filter.n, c.filter.h * c.filter.w * c.filter.c);
            status = nn_convolve_s4(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                    &c.filter, packed.data(), bias, &c.out, out.data());
            break;
        }
        case ConvKind::kSparse: {
            const auto packed =
                PackSparse(c.weights, c.filter.n, c.filter.h * c.filter.w * c.filter.c);
            status = nn_convolve_sparse_s8(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                           &c.filter, packed.data(), bias, &c.out, out.data());
            break;
        }
    }
    EXPECT_TRUE(scratch.GuardIntact()) << "wrote past its scratch";
    EXPECT_TRUE(out.GuardIntact()) << "wrote past its output";
    *result = out.values();
    return status;
}

void ExpectConvMatchesOracle(ConvKind kind, uint64_t seed, int cases) {
    Rng rng(seed);
    for (int i = 0; i < cases; ++i) {
        const ConvCase c = RandomConvCase(rng, kind);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunConv(c, kind, &got), NN_OK);
        EXPECT_TRUE(BytesEqual(got, OracleConv(c)));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

TEST(NnConvolveS8, MatchesOracleOnRandomCases) { ExpectConvMatchesOracle(ConvKind::kS8, 10, 600); }

TEST(NnConvolve1x1S8, MatchesOracleOnRandomCases) {
    ExpectConvMatchesOracle(ConvKind::k1x1, 11, 600);
}

TEST(NnConvolveS4, MatchesOracleOnRandomCases) { ExpectConvMatchesOracle(ConvKind::kS4, 12, 600); }

// 1x1 cases through the general kernel (the optimised one hands them on).
TEST(NnConvolveS8, MatchesOracleOnPointwiseCases) {
    Rng rng(13);
    for (int i = 0; i < 200; ++i) {
        const ConvCase c = RandomConvCase(rng, ConvKind::k1x1);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunConv(c, ConvKind::kS8, &got), NN_OK);
        EXPECT_TRUE(BytesEqual(got, OracleConv(c)));
    }
}

// Every channel count against every remainder of the optimised paths: im2col
// runs that start and end on groups of four (C_in a multiple of 4) or not, a
// dot product with a tail of 0 to 3, odd and even output channel and pixel
// counts (the 2 x 2 register block and its leftovers), paddings and strides.
TEST(NnConvolveS8, MatchesOracleForEveryChannelRemainder) {
    Rng rng(15);
    for (const int32_t in_c : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 24, 32}) {
        for (int i = 0; i < 40; ++i) {
            const ConvCase c = RandomConvCase(rng, ConvKind::kS8, in_c, rng.Int(1, 17));
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunConv(c, ConvKind::kS8, &got), NN_OK);
            ASSERT_TRUE(BytesEqual(got, OracleConv(c)));
        }
    }
}

// The 1x1 path where output pixel p reads input pixel p (stride 1 over the
// whole input: the contiguous walk), against the same oracle. C_in gives 0 to 8
// groups of four (steps of two groups and an odd one left over) and tails of 0
// to 3; C_out odd and even.
TEST(NnConvolve1x1S8, MatchesOracleWhenEveryInputPixelIsRead) {
    Rng rng(16);
    for (const int32_t in_c : {1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 17, 20, 32}) {
        for (int i = 0; i < 40; ++i) {
            ConvCase c = RandomConvCase(rng, ConvKind::k1x1, in_c, rng.Int(1, 17));
            c.params.stride = {1, 1};
            c.out.h = c.in.h;
            c.out.w = c.in.w;
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            for (const ConvKind kind : {ConvKind::k1x1, ConvKind::kS8}) {
                std::vector<int8_t> got;
                ASSERT_EQ(RunConv(c, kind, &got), NN_OK);
                ASSERT_TRUE(BytesEqual(got, OracleConv(c)));
            }
        }
    }
}

// The same values as int8 and as packed int4 weights give the same output.
TEST(NnConvolveS4, AgreesWithS8OnTheSameWeights) {
    Rng rng(14);
    for (int i = 0; i < 100; ++i) {
        const ConvCase c = RandomConvCase(rng, ConvKind::kS4);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> s4, s8;
        ASSERT_EQ(RunConv(c, ConvKind::kS4, &s4), NN_OK);
        ASSERT_EQ(RunConv(c, ConvKind::kS8, &s8), NN_OK);
        EXPECT_EQ(s4, s8);
    }
}

// Every input at -128 or 127, every weight at -128 (-8), offsets at their ends,
// and the deepest accumulation allowed: the sums reach +-2^31 * (1 - 2^-16)
// without wrapping in any build.
// In place: runs nn_convolve_1x1_in_place_s8 over a buffer of the larger of
// input and output (a guard after it) holding the input, and returns the
// output's bytes.
nn_status RunConv1x1InPlace(const ConvCase& c, std::vector<int8_t>* result) {
    Scratch scratch(nn_convolve_1x1_in_place_s8_get_buffer_size(&c.in, &c.filter));
    Output data(std::max(Count(c.in), Count(c.out)));
    std::copy(c.input.begin(), c.input.end(), data.data());
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const nn_status status = nn_convolve_1x1_in_place_s8(
        scratch.ctx(), &c.params, &quant, &c.in, &c.filter, c.weights.data(),
        c.bias.empty() ? nullptr : c.bias.data(), &c.out, data.data());
    EXPECT_TRUE(scratch.GuardIntact());
    EXPECT_TRUE(data.GuardIntact()) << "wrote past its buffer";
    const std::vector<int8_t> all = data.values();
    *result = {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(Count(c.out))};
    return status;
}

// Narrowing (forwards), widening (backwards) and equal widths, odd and even
// pixel counts, against the oracle.
TEST(NnConvolve1x1InPlaceS8, MatchesOracleNarrowingAndWidening) {
    Rng rng(17);
    for (const int32_t in_c : {1, 2, 3, 4, 5, 7, 8, 16, 17, 32}) {
        for (int i = 0; i < 40; ++i) {
            ConvCase c = RandomConvCase(rng, ConvKind::k1x1, in_c, rng.Int(1, 40));
            c.params.stride = {1, 1};
            c.out.h = c.in.h;
            c.out.w = c.in.w;
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunConv1x1InPlace(c, &got), NN_OK);
            ASSERT_TRUE(BytesEqual(got, OracleConv(c)));
        }
    }
}

TEST(NnConvolve1x1InPlaceS8, RejectsWhatCannotRunInPlace) {
    const nn_dims in = {1, 4, 4, 8}, filter = {6, 1, 1, 8}, out = {1, 4, 4, 6};
    const nn_conv_params good = {0, 0, {1, 1}, {0, 0}, {-128, 127}};
    std::vector<int8_t> data(128), weights(48);
    const int32_t multiplier[6] = {1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30, 1 << 30};
    const int32_t shift[6] = {};
    const nn_per_channel_quant quant = {multiplier, shift};
    const int32_t size = nn_convolve_1x1_in_place_s8_get_buffer_size(&in, &filter);
    EXPECT_EQ(size, nn_convolve_1x1_s8_get_buffer_size(&in, &filter));
    auto run = [&](const nn_conv_params& p, const nn_dims& o, int32_t scratch_bytes) {
        Scratch scratch(scratch_bytes);
        return nn_convolve_1x1_in_place_s8(scratch.ctx(), &p, &quant, &in, &filter, weights.data(),
                                           nullptr, &o, data.data());
    };
    EXPECT_EQ(run(good, out, size), NN_OK);
    EXPECT_EQ(run(good, out, size - 4), NN_ARG_ERROR);
    nn_conv_params p = good;
    p.stride = {2, 2};  // the output pixels no longer follow the input's
    EXPECT_EQ(run(p, {1, 2, 2, 6}, size), NN_ARG_ERROR);
    EXPECT_EQ(run(good, {1, 3, 4, 6}, size), NN_ARG_ERROR);
    EXPECT_EQ(run(good, {1, 4, 4, 5}, size), NN_ARG_ERROR);
}

ConvCase ExtremeConvCase(ConvKind kind, int32_t input_value, int32_t input_offset, int32_t weight,
                         int32_t k_h, int32_t k_w, int32_t in_c) {
    ConvCase c;
    c.in = {1, k_h, k_w, in_c};
    c.filter = {3, k_h, k_w, in_c};
    c.out = {1, 1, 1, 3};
    c.params = {input_offset, 127, {1, 1}, {0, 0}, {-128, 127}};
    if (kind == ConvKind::k1x1) {
        c.in = {1, 1, 1, in_c};
    }
    c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(input_value));
    c.weights.assign(static_cast<size_t>(Count(c.filter)), static_cast<int8_t>(weight));
    c.weights[1] = static_cast<int8_t>(-weight - 1);  // not all alike
    c.bias = {kInt32Max, kInt32Min, 0};
    c.multiplier = {kInt32Max, 1 << 30, kInt32Max};
    c.shift = {-31, -24, 0};
    return c;
}

TEST(NnConvolveS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const ConvKind kind : {ConvKind::kS8, ConvKind::k1x1, ConvKind::kS4}) {
        const int32_t weight = kind == ConvKind::kS4 ? -8 : -128;
        // 3 * 5 * 4369 = 65535 = NN_MAX_ACCUM_DEPTH.
        const int32_t k = kind == ConvKind::k1x1 ? 1 : 3, kw = kind == ConvKind::k1x1 ? 1 : 5;
        const int32_t in_c = kind == ConvKind::k1x1 ? 65535 : 4369;
        for (const int32_t value : {-128, 127}) {
            for (const int32_t offset : {-128, 128}) {
                const ConvCase c = ExtremeConvCase(kind, value, offset, weight, k, kw, in_c);
                SCOPED_TRACE(c.Describe());
                std::vector<int8_t> got;
                ASSERT_EQ(RunConv(c, kind, &got), NN_OK);
                EXPECT_TRUE(BytesEqual(got, OracleConv(c)));
            }
        }
    }
}

// A small valid convolution to break one argument at a time.
struct ConvArgs {
    nn_dims in{1, 4, 4, 3}, filter{2, 3, 3, 3}, out{1, 4, 4, 2};
    nn_conv_params params{0, 0, {1, 1}, {1, 1}, {-128, 127}};
    std::vector<int8_t> input = std::vector<int8_t>(48, 1), weights = std::vector<int8_t>(54, 1);
    std::vector<int32_t> multiplier{1 << 30, 1 << 30}, shift{0, 0};
    nn_per_channel_quant quant{multiplier.data(), shift.data()};
    std::vector<uint32_t> scratch = std::vector<uint32_t>(128);
    nn_context ctx{scratch.data(), 512};
    std::vector<int8_t> output = std::vector<int8_t>(32);

    nn_status Run(nn_status (*kernel)(const nn_context*, const nn_conv_params*,
                                      const nn_per_channel_quant*, const nn_dims*, const int8_t*,
                                      const nn_dims*, const int8_t*, const int32_t*, const nn_dims*,
                                      int8_t*)) {
        return kernel(&ctx, &params, &quant, &in, input.data(), &filter, weights.data(), nullptr,
                      &out, output.data());
    }
};

TEST(NnConvolveS8, RejectsBadArguments) {
    for (auto* kernel : {&nn_convolve_s8, &nn_convolve_s4, &nn_convolve_sparse_s8}) {
        EXPECT_EQ(ConvArgs().Run(kernel), NN_OK);
        const std::vector<void (*)(ConvArgs&)> breakers = {
            [](ConvArgs& a) { a.filter.c = 4; },
            [](ConvArgs& a) { a.out.c = 3; },
            [](ConvArgs& a) { a.out.n = 2; },
            [](ConvArgs& a) { a.in.h = 0; },
            [](ConvArgs& a) { a.filter.w = -1; },
            [](ConvArgs& a) { a.params.stride.h = 0; },
            [](ConvArgs& a) { a.params.padding.w = -1; },
            [](ConvArgs& a) { a.params.input_offset = 129; },
            [](ConvArgs& a) { a.params.input_offset = -129; },
            [](ConvArgs& a) { a.params.output_offset = 128; },
            [](ConvArgs& a) {
                a.params.activation = {10, 9};
            },
            [](ConvArgs& a) {
                a.params.activation = {-129, 0};
            },
            [](ConvArgs& a) {
                a.params.activation = {0, 128};
            },
            [](ConvArgs& a) { a.quant.shift = nullptr; },
            [](ConvArgs& a) { a.quant.multiplier = nullptr; },
            [](ConvArgs& a) { a.ctx.size = 4 * 27 - 1; },  // scratch one byte short
            [](ConvArgs& a) { a.ctx.buf = nullptr; },
            [](ConvArgs& a) {
                a.ctx.buf = reinterpret_cast<uint8_t*>(a.scratch.data()) + 2;  // misaligned
                a.ctx.size = 400;
            },
            [](ConvArgs& a) {
                a.filter = {2, 256, 1, 256};  // depth 65536
                a.in = {1, 4, 4, 256};
            },
        };
        for (size_t i = 0; i < breakers.size(); ++i) {
            ConvArgs a;
            breakers[i](a);
            EXPECT_EQ(a.Run(kernel), NN_ARG_ERROR) << "breaker " << i;
        }
        ConvArgs a;
        EXPECT_EQ(kernel(nullptr, &a.params, &a.quant, &a.in, a.input.data(), &a.filter,
                         a.weights.data(), nullptr, &a.out, a.output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(&a.ctx, nullptr, &a.quant, &a.in, a.input.data(), &a.filter,
                         a.weights.data(), nullptr, &a.out, a.output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(&a.ctx, &a.params, &a.quant, &a.in, nullptr, &a.filter, a.weights.data(),
                         nullptr, &a.out, a.output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(&a.ctx, &a.params, &a.quant, &a.in, a.input.data(), &a.filter, nullptr,
                         nullptr, &a.out, a.output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(&a.ctx, &a.params, &a.quant, &a.in, a.input.data(), &a.filter,
                         a.weights.data(), nullptr, &a.out, nullptr),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(&a.ctx, &a.params, &a.quant, nullptr, a.input.data(), &a.filter,
                         a.weights.data(), nullptr, &a.out, a.output.data()),
                  NN_ARG_ERROR);
    }
}

TEST(NnConvolve1x1S8, RejectsWhatIsNotPointwise) {
    ConvArgs a;
    a.filter = {2, 1, 1, 3};
    a.params.padding = {0, 0};
    a.ctx.size = 4 * 3;  // two pixels of int16
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_OK);
    a.ctx.size = 4 * 3 - 1;
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_ARG_ERROR);
    a.ctx.size = 4 * 3;
    a.params.padding = {0, 1};
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_ARG_ERROR);
    a.params.padding = {0, 0};
    a.filter = {2, 1, 2, 3};
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_ARG_ERROR);
    a.filter = {2, 1, 1, 3};
    a.params.stride = {2, 1};  // output column 3 would read input column 6
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_ARG_ERROR);
    a.out = {1, 4, 2, 2};
    EXPECT_EQ(a.Run(&nn_convolve_1x1_s8), NN_OK);
}

// ---------------------------------------------------------------------------
// Sparse convolution: against the oracle and bit for bit against
// nn_convolve_s8 on the same (dense) weights.

// Runs the sparse and the dense kernel on c; both must match the oracle.
void ExpectSparseConvMatches(const ConvCase& c) {
    std::vector<int8_t> sparse, dense;
    ASSERT_EQ(RunConv(c, ConvKind::kSparse, &sparse), NN_OK);
    ASSERT_EQ(RunConv(c, ConvKind::kS8, &dense), NN_OK);
    ASSERT_TRUE(BytesEqual(sparse, dense));
    ASSERT_TRUE(BytesEqual(sparse, OracleConv(c)));
}

TEST(NnConvolveSparseS8, MatchesDenseAndOracleAtEverySparsity) {
    Rng rng(18);
    for (const double sparsity : kSparsities) {
        for (const ConvKind shape : {ConvKind::kS8, ConvKind::k1x1}) {
            for (int i = 0; i < 150; ++i) {
                ConvCase c = RandomConvCase(rng, shape);
                Sparsify(rng, &c.weights, c.filter.h * c.filter.w * c.filter.c, sparsity);
                SCOPED_TRACE("sparsity " + std::to_string(sparsity) + ", case " +
                             std::to_string(i) + ": " + c.Describe());
                ExpectSparseConvMatches(c);
            }
        }
    }
}

// Every weight zero: the outputs are the biases' alone.
TEST(NnConvolveSparseS8, MatchesDenseWhenEveryWeightIsZero) {
    Rng rng(19);
    for (int i = 0; i < 100; ++i) {
        ConvCase c = RandomConvCase(rng, i % 2 ? ConvKind::kS8 : ConvKind::k1x1);
        Sparsify(rng, &c.weights, c.filter.h * c.filter.w * c.filter.c, 1.0);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        ExpectSparseConvMatches(c);
    }
}

// Wide rows, so that the optimised kernel's runs of windows inside the input
// have every length modulo its four pixels per pass, with windows reaching into
// the padding on every side, strides, odd channel counts and odd depths.
TEST(NnConvolveSparseS8, MatchesDenseOnWideRowsAndOddShapes) {
    Rng rng(20);
    for (int32_t in_w = 1; in_w <= 23; ++in_w) {
        for (int i = 0; i < 12; ++i) {
            ConvCase c = RandomConvCase(rng, i % 3 == 0 ? ConvKind::k1x1 : ConvKind::kS8,
                                        rng.Pick<int32_t>({1, 3, 5, 16, 17}), rng.Int(1, 9));
            // Redraw the width and its axis for this in_w.
            c.in.w = in_w;
            const int32_t k_w = c.filter.w;
            const Axis x = i % 3 == 0 ? Axis{0, rng.Int(1, (in_w - 1) / c.params.stride.w + 1)}
                                      : RandomAxis(rng, in_w, k_w, c.params.stride.w, k_w);
            c.params.padding.w = x.pad;
            c.out.w = x.out;
            c.input = rng.S8s(Count(c.in));
            Sparsify(rng, &c.weights, c.filter.h * c.filter.w * c.filter.c,
                     rng.Pick<double>({0.0, 0.5, 0.7, 0.8, 0.95}));
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            ExpectSparseConvMatches(c);
        }
    }
}

// The deepest accumulation with extreme values, dense and half zero.
TEST(NnConvolveSparseS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const bool pointwise : {false, true}) {
        const ConvKind kind = pointwise ? ConvKind::k1x1 : ConvKind::kS8;
        const int32_t k = pointwise ? 1 : 3, kw = pointwise ? 1 : 5;
        const int32_t in_c = pointwise ? 65535 : 4369;
        for (const int32_t value : {-128, 127}) {
            for (const int32_t offset : {-128, 128}) {
                for (const int32_t zero_every : {0, 2}) {
                    ConvCase c = ExtremeConvCase(kind, value, offset, -128, k, kw, in_c);
                    for (size_t i = 0; zero_every > 0 && i < c.weights.size(); i += 2) {
                        c.weights[i] = 0;
                    }
                    SCOPED_TRACE(c.Describe() + (zero_every ? ", half zero" : ""));
                    ExpectSparseConvMatches(c);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Depthwise convolution.

struct DwCase {
    nn_dims in{}, filter{}, out{};
    nn_dw_conv_params params{};
    std::vector<int8_t> input, weights;
    std::vector<int32_t> bias, multiplier, shift;

    std::string Describe() const {
        std::ostringstream s;
        s << "in " << Str(in) << " filter " << Str(filter) << " out " << Str(out) << " mult "
          << params.ch_mult << " stride " << params.stride.h << "x" << params.stride.w << " pad "
          << params.padding.h << "x" << params.padding.w << " offsets " << params.input_offset
          << "/" << params.output_offset << " act [" << params.activation.min << ","
          << params.activation.max << "]" << (bias.empty() ? " no bias" : "");
        return s.str();
    }
};

DwCase RandomDwCase(Rng& rng) {
    DwCase c;
    const int32_t in_c = rng.Chance(0.5) ? rng.Pick<int32_t>({4, 8, 12, 16}) : rng.Int(1, 13);
    c.params.ch_mult = rng.Chance(0.6) ? 1 : rng.Int(2, 3);
    const int32_t k_h = rng.Pick<int32_t>({3, 3, 3, 1, 2, 5});
    const int32_t k_w = rng.Chance(0.7) ? k_h : rng.Int(1, 5);
    c.in = {rng.Int(1, 2), rng.Int(1, 10), rng.Int(1, 10), in_c};
    c.params.stride = {rng.Int(1, 3), rng.Int(1, 3)};
    const Axis y = RandomAxis(rng, c.in.h, k_h, c.params.stride.h, k_h);
    const Axis x = RandomAxis(rng, c.in.w, k_w, c.params.stride.w, k_w);
    c.params.padding = {x.pad, y.pad};
    const int32_t out_c = in_c * c.params.ch_mult;
    c.filter = {1, k_h, k_w, out_c};
    c.out = {c.in.n, y.out, x.out, out_c};
    c.params.input_offset = rng.InputOffset();
    c.params.output_offset = rng.OutputOffset();
    c.params.activation = rng.Activation(c.params.output_offset);
    c.input = rng.S8s(Count(c.in));
    c.weights = rng.S8s(Count(c.filter));
    const int64_t depth = int64_t{k_h} * k_w;
    c.bias = rng.Bias(out_c, depth, kS8Term);
    for (int32_t o = 0; o < out_c; ++o) {
        c.multiplier.push_back(rng.Multiplier());
        c.shift.push_back(rng.Shift(depth, kS8Term));
    }
    return c;
}

std::vector<int8_t> OracleDepthwise(const DwCase& c) {
    std::vector<int8_t> out(static_cast<size_t>(Count(c.out)));
    for (int32_t b = 0; b < c.out.n; ++b) {
        for (int32_t oy = 0; oy < c.out.h; ++oy) {
            for (int32_t ox = 0; ox < c.out.w; ++ox) {
                for (int32_t o = 0; o < c.out.c; ++o) {
                    const int32_t ic = o / c.params.ch_mult;
                    int64_t sum = 0;
                    for (int32_t ky = 0; ky < c.filter.h; ++ky) {
                        for (int32_t kx = 0; kx < c.filter.w; ++kx) {
                            const int32_t iy = oy * c.params.stride.h - c.params.padding.h + ky;
                            const int32_t ix = ox * c.params.stride.w - c.params.padding.w + kx;
                            if (iy < 0 || iy >= c.in.h || ix < 0 || ix >= c.in.w) {
                                continue;
                            }
                            const int64_t x =
                                c.input[static_cast<size_t>(Index(c.in, b, iy, ix, ic))];
                            const int64_t w =
                                c.weights[static_cast<size_t>(Index(c.filter, 0, ky, kx, o))];
                            sum += w * (x + c.params.input_offset);
                        }
                    }
                    out[static_cast<size_t>(Index(c.out, b, oy, ox, o))] = OracleOutput(
                        sum, c.bias.empty() ? 0 : c.bias[static_cast<size_t>(o)],
                        c.multiplier[static_cast<size_t>(o)], c.shift[static_cast<size_t>(o)],
                        c.params.output_offset, c.params.activation);
                }
            }
        }
    }
    return out;
}

// s4: nn_depthwise_conv_s4 with the weights packed as one row.
nn_status RunDepthwise(const DwCase& c, std::vector<int8_t>* result, bool s4 = false) {
    Scratch scratch(s4 ? nn_depthwise_conv_s4_get_buffer_size(&c.in, &c.filter)
                       : nn_depthwise_conv_s8_get_buffer_size(&c.in, &c.filter));
    Output out(Count(c.out));
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const auto packed = PackRows(c.weights, 1, static_cast<int32_t>(Count(c.filter)));
    const nn_status status = (s4 ? nn_depthwise_conv_s4 : nn_depthwise_conv_s8)(
        scratch.ctx(), &c.params, &quant, &c.in, c.input.data(), &c.filter,
        s4 ? packed.data() : c.weights.data(), c.bias.empty() ? nullptr : c.bias.data(), &c.out,
        out.data());
    EXPECT_TRUE(scratch.GuardIntact()) << "wrote past its scratch";
    EXPECT_TRUE(out.GuardIntact()) << "wrote past its output";
    *result = out.values();
    return status;
}

TEST(NnDepthwiseConvS8, MatchesOracleOnRandomCases) {
    Rng rng(20);
    for (int i = 0; i < 800; ++i) {
        const DwCase c = RandomDwCase(rng);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunDepthwise(c, &got), NN_OK);
        EXPECT_TRUE(BytesEqual(got, OracleDepthwise(c)));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

// A random case of a given shape: input [1..2, 1..12, 1..12, in_c], a k_h x k_w
// window, a channel multiplier; strides 1 to 3, VALID / SAME / free padding;
// 4-bit weights with s4.
DwCase RandomDwCaseOfShape(Rng& rng, int32_t in_c, int32_t k_h, int32_t k_w, int32_t ch_mult,
                           bool s4) {
    DwCase c = RandomDwCase(rng);  // its offsets and activation
    c.params.ch_mult = ch_mult;
    c.in = {rng.Int(1, 2), rng.Int(1, 12), rng.Int(1, 12), in_c};
    c.params.stride = {rng.Int(1, 3), rng.Int(1, 3)};
    const Axis y = RandomAxis(rng, c.in.h, k_h, c.params.stride.h, k_h);
    const Axis x = RandomAxis(rng, c.in.w, k_w, c.params.stride.w, k_w);
    c.params.padding = {x.pad, y.pad};
    const int32_t out_c = in_c * ch_mult;
    c.filter = {1, k_h, k_w, out_c};
    c.out = {c.in.n, y.out, x.out, out_c};
    c.input = rng.S8s(Count(c.in));
    c.weights = s4 ? rng.S4s(Count(c.filter)) : rng.S8s(Count(c.filter));
    const int64_t depth = int64_t{k_h} * k_w;
    const double term = s4 ? kS4Term : kS8Term;
    c.bias = rng.Bias(out_c, depth, term);
    c.multiplier.clear();
    c.shift.clear();
    for (int32_t o = 0; o < out_c; ++o) {
        c.multiplier.push_back(rng.Multiplier());
        c.shift.push_back(rng.Shift(depth, term));
    }
    return c;
}

// The dedicated 3x3 path (ch_mult 1): every channel count against its groups
// of four and the channels left over, interior runs and clipped borders, odd
// and even output sizes, strides 1 to 3, VALID / SAME / free padding.
TEST(NnDepthwiseConvS8, MatchesOracleOn3x3ForEveryChannelRemainder) {
    Rng rng(21);
    for (const int32_t in_c : {1, 3, 4, 5, 7, 8, 12, 17, 32}) {
        for (int i = 0; i < 30; ++i) {
            const DwCase c = RandomDwCaseOfShape(rng, in_c, 3, 3, 1, false);
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunDepthwise(c, &got), NN_OK);
            ASSERT_TRUE(BytesEqual(got, OracleDepthwise(c)));
        }
    }
}

// A 255 x 257 window (65535 taps) over an input of the same size, five
// channels: every input `value`, every weight `weight` but one at -weight - 1,
// int32 edges in the biases.
DwCase ExtremeDwCase(int32_t value, int32_t offset, int32_t weight) {
    DwCase c;
    c.in = {1, 255, 257, 5};
    c.filter = {1, 255, 257, 5};
    c.out = {1, 1, 1, 5};
    c.params = {offset, -128, 1, {1, 1}, {0, 0}, {-128, 127}};
    c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
    c.weights.assign(static_cast<size_t>(Count(c.filter)), static_cast<int8_t>(weight));
    c.weights[3] = static_cast<int8_t>(-weight - 1);
    c.bias = {kInt32Max, kInt32Min, 0, -1, 1};
    c.multiplier = {kInt32Max, kInt32Max, 1 << 30, kInt32Max, 1 << 30};
    c.shift = {-31, -24, -16, 0, -8};
    return c;
}

// With 4-bit weights too (five channels: a group of four and one alone).
TEST(NnDepthwiseConvS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const bool s4 : {false, true}) {
        for (const int32_t value : {-128, 127}) {
            for (const int32_t offset : {-128, 128}) {
                const DwCase c = ExtremeDwCase(value, offset, s4 ? -8 : -128);
                SCOPED_TRACE(std::string(s4 ? "s4 " : "s8 ") + c.Describe());
                std::vector<int8_t> got;
                ASSERT_EQ(RunDepthwise(c, &got, s4), NN_OK);
                EXPECT_TRUE(BytesEqual(got, OracleDepthwise(c)));
            }
        }
    }
}

TEST(NnDepthwiseConvS8, RejectsBadArguments) {
    const nn_dims in = {1, 4, 4, 2}, filter = {1, 3, 3, 4}, out = {1, 4, 4, 4};
    const nn_dw_conv_params good = {0, 0, 2, {1, 1}, {1, 1}, {-128, 127}};
    std::vector<int8_t> input(32), weights(36), output(64);
    const int32_t multiplier[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {};
    const nn_per_channel_quant quant = {multiplier, shift};
    std::vector<uint32_t> scratch(32);
    nn_context ctx = {scratch.data(), 8 * 9};  // nn_depthwise_conv_s4's: 8 bytes per tap
    for (auto* kernel : {&nn_depthwise_conv_s8, &nn_depthwise_conv_s4}) {
        auto run = [&](const nn_dw_conv_params& p, const nn_dims& i, const nn_dims& f,
                       const nn_dims& o) {
            return kernel(&ctx, &p, &quant, &i, input.data(), &f, weights.data(), nullptr, &o,
                          output.data());
        };
        EXPECT_EQ(run(good, in, filter, out), NN_OK);
        nn_dw_conv_params p = good;
        p.ch_mult = 1;  // filter has 4 channels, input 2
        EXPECT_EQ(run(p, in, filter, out), NN_ARG_ERROR);
        p = good;
        p.ch_mult = 0;
        EXPECT_EQ(run(p, in, filter, out), NN_ARG_ERROR);
        EXPECT_EQ(run(good, in, {2, 3, 3, 4}, out), NN_ARG_ERROR);  // filter n must be 1
        EXPECT_EQ(run(good, in, filter, {1, 4, 4, 3}), NN_ARG_ERROR);
        EXPECT_EQ(run(good, in, {1, 256, 256, 4}, out), NN_ARG_ERROR);  // 65536 taps
        p = good;
        p.stride = {1, 0};
        EXPECT_EQ(run(p, in, filter, out), NN_ARG_ERROR);
        p = good;
        p.activation = {5, 4};
        EXPECT_EQ(run(p, in, filter, out), NN_ARG_ERROR);
        p = good;
        p.input_offset = 200;
        EXPECT_EQ(run(p, in, filter, out), NN_ARG_ERROR);
        EXPECT_EQ(kernel(&ctx, &good, &quant, &in, input.data(), &filter, nullptr, nullptr, &out,
                         output.data()),
                  NN_ARG_ERROR);
    }
    // nn_depthwise_conv_s4 needs its scratch, 4-byte aligned; nn_depthwise_conv_s8 none.
    auto run_both = [&](nn_context c) {
        const auto s8 = nn_depthwise_conv_s8(&c, &good, &quant, &in, input.data(), &filter,
                                             weights.data(), nullptr, &out, output.data());
        const auto s4 = nn_depthwise_conv_s4(&c, &good, &quant, &in, input.data(), &filter,
                                             weights.data(), nullptr, &out, output.data());
        return std::make_pair(s8, s4);
    };
    EXPECT_EQ(run_both({scratch.data(), 8 * 9 - 1}), std::make_pair(NN_OK, NN_ARG_ERROR));
    EXPECT_EQ(run_both({nullptr, 0}), std::make_pair(NN_OK, NN_ARG_ERROR));
    EXPECT_EQ(run_both({reinterpret_cast<uint8_t*>(scratch.data()) + 2, 100}),
              std::make_pair(NN_OK, NN_ARG_ERROR));
}

// ---------------------------------------------------------------------------
// In-place depthwise convolution: the output written over the input.

// A random ch_mult-1 case whose windows all start inside the input.
DwCase RandomInPlaceCase(Rng& rng) {
    for (;;) {
        DwCase c = RandomDwCase(rng);
        if (c.params.ch_mult != 1) {
            continue;
        }
        if ((c.out.h - 1) * c.params.stride.h < c.in.h &&
            (c.out.w - 1) * c.params.stride.w < c.in.w) {
            return c;
        }
    }
}

// Runs the in-place kernel on a copy of the input (with a guard after it) and
// returns the output bytes; the bytes after the output are the input's own.
nn_status RunDepthwiseInPlace(const DwCase& c, std::vector<int8_t>* result) {
    Scratch scratch(nn_depthwise_conv_in_place_s8_get_buffer_size(&c.in, &c.filter));
    Output data(Count(c.in));
    std::copy(c.input.begin(), c.input.end(), data.data());
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const nn_status status = nn_depthwise_conv_in_place_s8(
        scratch.ctx(), &c.params, &quant, &c.in, &c.filter, c.weights.data(),
        c.bias.empty() ? nullptr : c.bias.data(), &c.out, data.data());
    EXPECT_TRUE(scratch.GuardIntact());
    EXPECT_TRUE(data.GuardIntact()) << "wrote past its input";
    const std::vector<int8_t> all = data.values();
    *result = {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(Count(c.out))};
    return status;
}

TEST(NnDepthwiseConvInPlaceS8, MatchesOracleOnRandomCases) {
    Rng rng(22);
    for (int i = 0; i < 800; ++i) {
        const DwCase c = RandomInPlaceCase(rng);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunDepthwiseInPlace(c, &got), NN_OK);
        ASSERT_TRUE(BytesEqual(got, OracleDepthwise(c)));
    }
}

// The 3x3 path and the general one at the shapes of inverted bottlenecks:
// many channels, strides 1 and 2, SAME padding, two batches.
TEST(NnDepthwiseConvInPlaceS8, MatchesOracleOnBottleneckShapes) {
    Rng rng(23);
    for (const int32_t k : {3, 5, 7}) {
        for (const int32_t stride : {1, 2}) {
            for (const int32_t in_c : {1, 6, 24, 33}) {
                DwCase c = RandomInPlaceCase(rng);
                c.in = {2, rng.Int(1, 15), rng.Int(1, 15), in_c};
                c.params.stride = {stride, stride};
                const int32_t out_h = (c.in.h + stride - 1) / stride;
                const int32_t out_w = (c.in.w + stride - 1) / stride;
                c.params.padding = {std::max((out_w - 1) * stride + k - c.in.w, 0) / 2,
                                    std::max((out_h - 1) * stride + k - c.in.h, 0) / 2};
                c.filter = {1, k, k, in_c};
                c.out = {2, out_h, out_w, in_c};
                c.input = rng.S8s(Count(c.in));
                c.weights = rng.S8s(Count(c.filter));
                c.bias = rng.Bias(in_c, k * k, kS8Term);
                c.multiplier.clear();
                c.shift.clear();
                for (int32_t o = 0; o < in_c; ++o) {
                    c.multiplier.push_back(rng.Multiplier());
                    c.shift.push_back(rng.Shift(k * k, kS8Term));
                }
                SCOPED_TRACE(c.Describe());
                std::vector<int8_t> got;
                ASSERT_EQ(RunDepthwiseInPlace(c, &got), NN_OK);
                ASSERT_TRUE(BytesEqual(got, OracleDepthwise(c)));
            }
        }
    }
}

TEST(NnDepthwiseConvInPlaceS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const int32_t value : {-128, 127}) {
        for (const int32_t offset : {-128, 128}) {
            DwCase c;
            c.in = {1, 255, 257, 3};
            c.filter = {1, 255, 257, 3};
            c.out = {1, 1, 1, 3};
            c.params = {offset, -128, 1, {1, 1}, {0, 0}, {-128, 127}};
            c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
            c.weights.assign(static_cast<size_t>(Count(c.filter)), -128);
            c.weights[4] = 127;
            c.bias = {kInt32Max, kInt32Min, 0};
            c.multiplier = {kInt32Max, kInt32Max, 1 << 30};
            c.shift = {-31, -24, -16};
            SCOPED_TRACE(c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunDepthwiseInPlace(c, &got), NN_OK);
            EXPECT_TRUE(BytesEqual(got, OracleDepthwise(c)));
        }
    }
}

TEST(NnDepthwiseConvInPlaceS8, RejectsWhatCannotRunInPlace) {
    const nn_dims in = {1, 4, 4, 2}, filter = {1, 3, 3, 2}, out = {1, 4, 4, 2};
    const nn_dw_conv_params good = {0, 0, 1, {1, 1}, {1, 1}, {-128, 127}};
    std::vector<int8_t> data(64), weights(36);
    const int32_t multiplier[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {};
    const nn_per_channel_quant quant = {multiplier, shift};
    auto run = [&](const nn_dw_conv_params& p, const nn_dims& i, const nn_dims& f, const nn_dims& o,
                   int32_t scratch_bytes) {
        Scratch scratch(scratch_bytes);
        return nn_depthwise_conv_in_place_s8(scratch.ctx(), &p, &quant, &i, &f, weights.data(),
                                             nullptr, &o, data.data());
    };
    const int32_t size = nn_depthwise_conv_in_place_s8_get_buffer_size(&in, &filter);
    EXPECT_EQ(run(good, in, filter, out, size), NN_OK);
    EXPECT_EQ(run(good, in, filter, out, size - 1), NN_ARG_ERROR);
    nn_dw_conv_params p = good;
    p.ch_mult = 2;  // the output would outgrow its input
    EXPECT_EQ(run(p, in, {1, 3, 3, 4}, {1, 4, 4, 4}, size), NN_ARG_ERROR);
    // A last window starting in the bottom padding.
    p = good;
    p.padding = {2, 2};
    EXPECT_EQ(run(p, in, filter, {1, 5, 4, 2}, size), NN_ARG_ERROR);
    EXPECT_EQ(run(p, in, filter, {1, 4, 5, 2}, size), NN_ARG_ERROR);
    p = good;
    p.stride = {2, 2};
    EXPECT_EQ(run(p, in, filter, {1, 2, 2, 2}, size), NN_OK);
    EXPECT_EQ(run(p, in, filter, {1, 3, 2, 2}, size), NN_ARG_ERROR);
    EXPECT_EQ(run(good, in, filter, {1, 4, 4, 3}, size), NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------
// Max and average pooling.

struct PoolCase {
    nn_dims in{}, window{}, out{};
    nn_pool_params params{};
    std::vector<int8_t> input;

    std::string Describe() const {
        std::ostringstream s;
        s << "in " << Str(in) << " window " << window.h << "x" << window.w << " out " << Str(out)
          << " stride " << params.stride.h << "x" << params.stride.w << " pad " << params.padding.h
          << "x" << params.padding.w << " act [" << params.activation.min << ","
          << params.activation.max << "]";
        return s.str();
    }
};

PoolCase RandomPoolCase(Rng& rng, int32_t max_window, int32_t max_in) {
    PoolCase c;
    const int32_t k_h = rng.Int(1, max_window);
    const int32_t k_w = rng.Chance(0.7) ? k_h : rng.Int(1, max_window);
    c.in = {rng.Int(1, 2), rng.Int(1, max_in), rng.Int(1, max_in),
            rng.Chance(0.5) ? rng.Pick<int32_t>({4, 8, 16}) : rng.Int(1, 13)};
    c.params.stride = {rng.Int(1, 3), rng.Int(1, 3)};
    const Axis y = RandomAxis(rng, c.in.h, k_h, c.params.stride.h, k_h - 1);
    const Axis x = RandomAxis(rng, c.in.w, k_w, c.params.stride.w, k_w - 1);
    c.params.padding = {x.pad, y.pad};
    c.window = {1, k_h, k_w, 1};
    c.out = {c.in.n, y.out, x.out, c.in.c};
    c.params.activation = rng.Activation(rng.OutputOffset());
    c.input = rng.S8s(Count(c.in));
    return c;
}

// Whether some window lies wholly in the padding (the kernels reject those).
bool HasEmptyWindow(const PoolCase& c) {
    for (int32_t oy = 0; oy < c.out.h; ++oy) {
        for (int32_t ox = 0; ox < c.out.w; ++ox) {
            bool any = false;
            for (int32_t ky = 0; ky < c.window.h; ++ky) {
                for (int32_t kx = 0; kx < c.window.w; ++kx) {
                    const int32_t iy = oy * c.params.stride.h - c.params.padding.h + ky;
                    const int32_t ix = ox * c.params.stride.w - c.params.padding.w + kx;
                    any = any || (iy >= 0 && iy < c.in.h && ix >= 0 && ix < c.in.w);
                }
            }
            if (!any) {
                return true;
            }
        }
    }
    return false;
}

// TFLite's MaxPool / AveragePool (int8): over the window's inputs, padding
// excluded.
std::vector<int8_t> OraclePool(const PoolCase& c, bool average) {
    std::vector<int8_t> out(static_cast<size_t>(Count(c.out)));
    for (int32_t b = 0; b < c.out.n; ++b) {
        for (int32_t oy = 0; oy < c.out.h; ++oy) {
            for (int32_t ox = 0; ox < c.out.w; ++ox) {
                for (int32_t ch = 0; ch < c.out.c; ++ch) {
                    int32_t max = -128, sum = 0, count = 0;
                    for (int32_t ky = 0; ky < c.window.h; ++ky) {
                        for (int32_t kx = 0; kx < c.window.w; ++kx) {
                            const int32_t iy = oy * c.params.stride.h - c.params.padding.h + ky;
                            const int32_t ix = ox * c.params.stride.w - c.params.padding.w + kx;
                            if (iy < 0 || iy >= c.in.h || ix < 0 || ix >= c.in.w) {
                                continue;
                            }
                            const int32_t x =
                                c.input[static_cast<size_t>(Index(c.in, b, iy, ix, ch))];
                            max = std::max(max, x);
                            sum += x;
                            ++count;
                        }
                    }
                    const int32_t value = average ? OracleRoundingDivide(sum, count) : max;
                    out[static_cast<size_t>(Index(c.out, b, oy, ox, ch))] =
                        OracleClamp(value, c.params.activation.min, c.params.activation.max);
                }
            }
        }
    }
    return out;
}

nn_status RunPool(const PoolCase& c, bool average, std::vector<int8_t>* result) {
    Scratch scratch(average ? nn_avg_pool_s8_get_buffer_size(&c.in, &c.window)
                            : nn_max_pool_s8_get_buffer_size(&c.in, &c.window));
    Output out(Count(c.out));
    const nn_status status = average
                                 ? nn_avg_pool_s8(scratch.ctx(), &c.params, &c.in, c.input.data(),
                                                  &c.window, &c.out, out.data())
                                 : nn_max_pool_s8(scratch.ctx(), &c.params, &c.in, c.input.data(),
                                                  &c.window, &c.out, out.data());
    EXPECT_TRUE(scratch.GuardIntact());
    EXPECT_TRUE(out.GuardIntact()) << "wrote past its output";
    *result = out.values();
    return status;
}

void ExpectPoolMatchesOracle(bool average, uint64_t seed, int cases, int32_t max_window,
                             int32_t max_in) {
    Rng rng(seed);
    int rejected = 0;
    for (int i = 0; i < cases; ++i) {
        const PoolCase c = RandomPoolCase(rng, max_window, max_in);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        if (HasEmptyWindow(c)) {
            EXPECT_EQ(RunPool(c, average, &got), NN_ARG_ERROR);
            ++rejected;
            continue;
        }
        ASSERT_EQ(RunPool(c, average, &got), NN_OK);
        EXPECT_TRUE(BytesEqual(got, OraclePool(c, average)));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
    EXPECT_LT(rejected, cases / 4) << "too few cases reached the kernel";
}

TEST(NnMaxPoolS8, MatchesOracleOnRandomCases) { ExpectPoolMatchesOracle(false, 30, 800, 4, 9); }

TEST(NnAvgPoolS8, MatchesOracleOnRandomCases) { ExpectPoolMatchesOracle(true, 31, 800, 4, 9); }

// Windows of more than 256 inputs (the optimised sums leave int16 lanes).
TEST(NnAvgPoolS8, MatchesOracleOnLargeWindows) { ExpectPoolMatchesOracle(true, 32, 40, 19, 24); }

TEST(NnMaxPoolS8, MatchesOracleOnLargeWindows) { ExpectPoolMatchesOracle(false, 33, 40, 19, 24); }

TEST(NnAvgPoolS8, RoundsHalfAwayFromZero) {
    // One 2x1 window per channel: sums 1, -1, 3, -3, 254, -256 over 2 inputs.
    const nn_dims in = {1, 2, 1, 6}, window = {1, 2, 1, 1}, out = {1, 1, 1, 6};
    const int8_t input[12] = {0, 0, 1, -1, 127, -128, 1, -1, 2, -2, 127, -128};
    int8_t output[6] = {};
    const nn_pool_params params = {{1, 1}, {0, 0}, {-128, 127}};
    ASSERT_EQ(nn_avg_pool_s8(nullptr, &params, &in, input, &window, &out, output), NN_OK);
    const int8_t want[6] = {1, -1, 2, -2, 127, -128};  // 0.5, -0.5, 1.5, -1.5, 127, -128
    EXPECT_EQ(std::vector<int8_t>(output, output + 6), std::vector<int8_t>(want, want + 6));
}

// All inputs at one extreme, windows of 255 to 400 inputs: the sums cross the
// int16 range where the optimised build changes how it adds.
TEST(NnAvgPoolS8, ExtremeValuesAroundTheInt16Sums) {
    for (const int32_t side : {15, 16, 17, 20}) {
        for (const int32_t value : {-128, 127}) {
            PoolCase c;
            c.in = {1, side + 1, side, 9};
            c.window = {1, side, side, 1};
            c.out = {1, 2, 1, 9};
            c.params = {{1, 1}, {0, 0}, {-128, 127}};
            c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
            c.input[5] = static_cast<int8_t>(-1 - value);  // one at the other extreme
            SCOPED_TRACE(c.Describe());
            for (const bool average : {true, false}) {
                std::vector<int8_t> got;
                ASSERT_EQ(RunPool(c, average, &got), NN_OK);
                EXPECT_TRUE(BytesEqual(got, OraclePool(c, average)));
            }
        }
    }
}

TEST(NnMaxPoolS8, RejectsBadArguments) {
    const nn_dims in = {1, 4, 4, 3}, window = {1, 2, 2, 1}, out = {1, 2, 2, 3};
    std::vector<int8_t> input(48), output(12);
    const nn_pool_params good = {{2, 2}, {0, 0}, {-128, 127}};
    for (auto* kernel : {&nn_max_pool_s8, &nn_avg_pool_s8}) {
        EXPECT_EQ(kernel(nullptr, &good, &in, input.data(), &window, &out, output.data()), NN_OK);
        nn_pool_params p = good;
        p.padding = {2, 0};  // first window wholly in the padding
        EXPECT_EQ(kernel(nullptr, &p, &in, input.data(), &window, &out, output.data()),
                  NN_ARG_ERROR);
        const nn_dims too_many = {1, 3, 2, 3};  // third row of windows starts at row 4
        EXPECT_EQ(kernel(nullptr, &good, &in, input.data(), &window, &too_many, output.data()),
                  NN_ARG_ERROR);
        const nn_dims other_c = {1, 2, 2, 2};
        EXPECT_EQ(kernel(nullptr, &good, &in, input.data(), &window, &other_c, output.data()),
                  NN_ARG_ERROR);
        const nn_dims no_window = {1, 0, 2, 1};
        EXPECT_EQ(kernel(nullptr, &good, &in, input.data(), &no_window, &out, output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(nullptr, &good, &in, input.data(), nullptr, &out, output.data()),
                  NN_ARG_ERROR);
        p = good;
        p.activation = {1, 0};
        EXPECT_EQ(kernel(nullptr, &p, &in, input.data(), &window, &out, output.data()),
                  NN_ARG_ERROR);
        EXPECT_EQ(kernel(nullptr, &good, &in, nullptr, &window, &out, output.data()), NN_ARG_ERROR);
    }
}

// ---------------------------------------------------------------------------
// Global average pooling.

struct GapCase {
    nn_dims in{}, out{};
    nn_global_pool_params params{};
    nn_per_tensor_quant quant{};
    std::vector<int8_t> input;

    std::string Describe() const {
        std::ostringstream s;
        s << "in " << Str(in) << " quant " << quant.multiplier << "/" << quant.shift << " offsets "
          << params.input_offset << "/" << params.output_offset << " act [" << params.activation.min
          << "," << params.activation.max << "]";
        return s.str();
    }
};

// tflite::reference_integer_ops::Mean over H and W, with the activation clamp.
std::vector<int8_t> OracleGlobalAvgPool(const GapCase& c) {
    std::vector<int8_t> out(static_cast<size_t>(Count(c.out)));
    const int32_t pixels = c.in.h * c.in.w;
    for (int32_t b = 0; b < c.in.n; ++b) {
        for (int32_t ch = 0; ch < c.in.c; ++ch) {
            int64_t sum = 0;
            for (int32_t y = 0; y < c.in.h; ++y) {
                for (int32_t x = 0; x < c.in.w; ++x) {
                    sum += c.input[static_cast<size_t>(Index(c.in, b, y, x, ch))] +
                           c.params.input_offset;
                }
            }
            int32_t acc =
                OracleRequantize(static_cast<int32_t>(sum), c.quant.multiplier, c.quant.shift);
            acc = OracleRoundingDivide(acc, pixels);
            acc = Wrap32(static_cast<int64_t>(acc) + c.params.output_offset);
            out[static_cast<size_t>(b * c.in.c + ch)] =
                OracleClamp(acc, c.params.activation.min, c.params.activation.max);
        }
    }
    return out;
}

TEST(NnGlobalAvgPoolS8, MatchesOracleOnRandomCases) {
    Rng rng(40);
    for (int i = 0; i < 600; ++i) {
        GapCase c;
        const int32_t side = i % 10 == 0 ? 24 : 8;  // some with more than 256 pixels
        c.in = {rng.Int(1, 2), rng.Int(1, side), rng.Int(1, side),
                rng.Chance(0.5) ? rng.Pick<int32_t>({4, 8, 16, 32}) : rng.Int(1, 13)};
        c.out = {c.in.n, 1, 1, c.in.c};
        c.params.input_offset = rng.InputOffset();
        c.params.output_offset = rng.OutputOffset();
        c.params.activation = rng.Activation(c.params.output_offset);
        // Scale ratios around 1 (shift 0..2), or anything.
        c.quant = {rng.Multiplier(), rng.Chance(0.7) ? rng.Int(-1, 2) : rng.Int(-31, 30)};
        c.input = rng.S8s(Count(c.in));
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        Scratch scratch(nn_global_avg_pool_s8_get_buffer_size(&c.in));
        Output out(Count(c.out));
        ASSERT_EQ(nn_global_avg_pool_s8(scratch.ctx(), &c.params, &c.quant, &c.in, c.input.data(),
                                        &c.out, out.data()),
                  NN_OK);
        EXPECT_TRUE(out.GuardIntact());
        EXPECT_TRUE(BytesEqual(out.values(), OracleGlobalAvgPool(c)));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

TEST(NnGlobalAvgPoolS8, ExtremeValues) {
    // 2048 x 4096 = 2^23 pixels is the most allowed; keep it smaller but past
    // several 256-pixel runs, all at the edges.
    for (const int32_t value : {-128, 127}) {
        for (const int32_t offset : {-128, 128}) {
            GapCase c;
            c.in = {1, 64, 80, 5};
            c.out = {1, 1, 1, 5};
            c.params = {offset, 0, {-128, 127}};
            c.quant = {1 << 30, 1};  // scale ratio 1
            c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
            SCOPED_TRACE(c.Describe());
            Output out(Count(c.out));
            ASSERT_EQ(nn_global_avg_pool_s8(nullptr, &c.params, &c.quant, &c.in, c.input.data(),
                                            &c.out, out.data()),
                      NN_OK);
            EXPECT_TRUE(BytesEqual(out.values(), OracleGlobalAvgPool(c)));
        }
    }
}

TEST(NnGlobalAvgPoolS8, RejectsBadArguments) {
    const nn_dims in = {2, 3, 3, 4}, out = {2, 1, 1, 4};
    std::vector<int8_t> input(72), output(8);
    const nn_global_pool_params params = {0, 0, {-128, 127}};
    const nn_per_tensor_quant quant = {1 << 30, 1};
    EXPECT_EQ(
        nn_global_avg_pool_s8(nullptr, &params, &quant, &in, input.data(), &out, output.data()),
        NN_OK);
    const nn_dims bad_out = {2, 1, 2, 4};
    EXPECT_EQ(
        nn_global_avg_pool_s8(nullptr, &params, &quant, &in, input.data(), &bad_out, output.data()),
        NN_ARG_ERROR);
    const nn_per_tensor_quant bad_shift = {1 << 30, 31};
    EXPECT_EQ(
        nn_global_avg_pool_s8(nullptr, &params, &bad_shift, &in, input.data(), &out, output.data()),
        NN_ARG_ERROR);
    EXPECT_EQ(
        nn_global_avg_pool_s8(nullptr, &params, nullptr, &in, input.data(), &out, output.data()),
        NN_ARG_ERROR);
    const nn_dims huge = {1, 4096, 4097, 1};  // more than 2^23 pixels
    const nn_dims huge_out = {1, 1, 1, 1};
    EXPECT_EQ(nn_global_avg_pool_s8(nullptr, &params, &quant, &huge, input.data(), &huge_out,
                                    output.data()),
              NN_ARG_ERROR);
}

// ---------------------------------------------------------------------------
// Fully connected (int8 and packed int4 weights).

struct FcCase {
    nn_dims in{}, filter{}, out{};
    nn_fc_params params{};
    std::vector<int8_t> input, weights;  // weights unpacked, [units, depth]
    std::vector<int32_t> bias, multiplier, shift;

    std::string Describe() const {
        std::ostringstream s;
        s << "in " << Str(in) << " filter " << Str(filter) << " offsets " << params.input_offset
          << "/" << params.output_offset << " act [" << params.activation.min << ","
          << params.activation.max << "]" << (bias.empty() ? " no bias" : "");
        return s.str();
    }
};

FcCase RandomFcCase(Rng& rng, bool s4) {
    FcCase c;
    c.in = {rng.Int(1, 3), rng.Int(1, 3), rng.Int(1, 3), rng.Int(1, 12)};
    const int32_t depth = c.in.h * c.in.w * c.in.c;
    const int32_t units = rng.Int(1, 9);
    c.filter = {units, 1, 1, depth};
    c.out = {c.in.n, 1, 1, units};
    c.params.input_offset = rng.InputOffset();
    c.params.output_offset = rng.OutputOffset();
    c.params.activation = rng.Activation(c.params.output_offset);
    c.input = rng.S8s(Count(c.in));
    c.weights = s4 ? rng.S4s(Count(c.filter)) : rng.S8s(Count(c.filter));
    const double term = s4 ? kS4Term : kS8Term;
    c.bias = rng.Bias(units, depth, term);
    for (int32_t u = 0; u < units; ++u) {
        c.multiplier.push_back(rng.Multiplier());
        c.shift.push_back(rng.Shift(depth, term));
    }
    return c;
}

// An int8 case of a given shape (1 to max_batches batches) with everything
// else drawn as RandomFcCase draws it.
FcCase RandomS8FcCaseOfShape(Rng& rng, int32_t max_batches, int32_t units, int32_t depth) {
    FcCase c = RandomFcCase(rng, false);
    c.in = {rng.Int(1, max_batches), 1, 1, depth};
    c.filter = {units, 1, 1, depth};
    c.out = {c.in.n, 1, 1, units};
    c.input = rng.S8s(Count(c.in));
    c.weights = rng.S8s(Count(c.filter));
    c.bias = rng.Bias(units, depth, kS8Term);
    c.multiplier.clear();
    c.shift.clear();
    for (int32_t u = 0; u < units; ++u) {
        c.multiplier.push_back(rng.Multiplier());
        c.shift.push_back(rng.Shift(depth, kS8Term));
    }
    return c;
}

std::vector<int8_t> OracleFullyConnected(const FcCase& c) {
    const int32_t depth = c.filter.c, units = c.filter.n;
    std::vector<int8_t> out(static_cast<size_t>(Count(c.out)));
    for (int32_t b = 0; b < c.in.n; ++b) {
        for (int32_t u = 0; u < units; ++u) {
            int64_t sum = 0;
            for (int32_t k = 0; k < depth; ++k) {
                sum += int64_t{c.weights[static_cast<size_t>(u) * depth + k]} *
                       (c.input[static_cast<size_t>(b) * depth + k] + c.params.input_offset);
            }
            out[static_cast<size_t>(b) * units + u] =
                OracleOutput(sum, c.bias.empty() ? 0 : c.bias[static_cast<size_t>(u)],
                             c.multiplier[static_cast<size_t>(u)], c.shift[static_cast<size_t>(u)],
                             c.params.output_offset, c.params.activation);
        }
    }
    return out;
}

// filter_offset: the weights start that many bytes past an aligned address.
nn_status RunFullyConnected(const FcCase& c, bool s4, std::vector<int8_t>* result,
                            int32_t filter_offset = 0);

// nn_fully_connected_sparse_s8 on c's weights in the sparse layout, the filter
// starting filter_offset bytes past an aligned address.
nn_status RunFullyConnectedSparse(const FcCase& c, std::vector<int8_t>* result,
                                  int32_t filter_offset = 0) {
    Scratch scratch(nn_fully_connected_sparse_s8_get_buffer_size(&c.in, &c.filter));
    Output out(Count(c.out));
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const auto packed = PackSparse(c.weights, c.filter.n, c.filter.c);
    std::vector<uint32_t> words((packed.size() + static_cast<size_t>(filter_offset)) / 4 + 1);
    auto* const filter = reinterpret_cast<int8_t*>(words.data()) + filter_offset;
    std::copy(packed.begin(), packed.end(), filter);
    const nn_status status = nn_fully_connected_sparse_s8(
        scratch.ctx(), &c.params, &quant, &c.in, c.input.data(), &c.filter, filter,
        c.bias.empty() ? nullptr : c.bias.data(), &c.out, out.data());
    EXPECT_TRUE(scratch.GuardIntact()) << "wrote past its scratch";
    EXPECT_TRUE(out.GuardIntact()) << "wrote past its output";
    *result = out.values();
    return status;
}

void ExpectSparseFcMatches(const FcCase& c, int32_t filter_offset = 0) {
    std::vector<int8_t> sparse, dense;
    ASSERT_EQ(RunFullyConnectedSparse(c, &sparse, filter_offset), NN_OK);
    ASSERT_EQ(RunFullyConnected(c, false, &dense), NN_OK);
    ASSERT_TRUE(BytesEqual(sparse, dense));
    ASSERT_TRUE(BytesEqual(sparse, OracleFullyConnected(c)));
}

nn_status RunFullyConnected(const FcCase& c, bool s4, std::vector<int8_t>* result,
                            int32_t filter_offset) {
    Scratch scratch(s4 ? nn_fully_connected_s4_get_buffer_size(&c.in, &c.filter)
                       : nn_fully_connected_s8_get_buffer_size(&c.in, &c.filter));
    Output out(Count(c.out));
    const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
    const int32_t* bias = c.bias.empty() ? nullptr : c.bias.data();
    nn_status status;
    if (s4) {
        const auto packed = PackRows(c.weights, c.filter.n, c.filter.c);
        status = nn_fully_connected_s4(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                       &c.filter, packed.data(), bias, &c.out, out.data());
    } else {
        std::vector<uint32_t> words((c.weights.size() + static_cast<size_t>(filter_offset)) / 4 +
                                    1);
        auto* const weights = reinterpret_cast<int8_t*>(words.data()) + filter_offset;
        std::copy(c.weights.begin(), c.weights.end(), weights);
        status = nn_fully_connected_s8(scratch.ctx(), &c.params, &quant, &c.in, c.input.data(),
                                       &c.filter, weights, bias, &c.out, out.data());
    }
    EXPECT_TRUE(scratch.GuardIntact()) << "wrote past its scratch";
    EXPECT_TRUE(out.GuardIntact()) << "wrote past its output";
    *result = out.values();
    return status;
}

void ExpectFcMatchesOracle(bool s4, uint64_t seed) {
    Rng rng(seed);
    for (int i = 0; i < 1000; ++i) {
        const FcCase c = RandomFcCase(rng, s4);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunFullyConnected(c, s4, &got), NN_OK);
        EXPECT_TRUE(BytesEqual(got, OracleFullyConnected(c)));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

TEST(NnFullyConnectedS8, MatchesOracleOnRandomCases) { ExpectFcMatchesOracle(false, 50); }

TEST(NnFullyConnectedS4, MatchesOracleOnRandomCases) { ExpectFcMatchesOracle(true, 51); }

// Every unit count from 1 to 13 (pairs of units, an odd one last) with
// every depth remainder modulo 8, for one to three batches.
TEST(NnFullyConnectedS8, MatchesOracleForEveryUnitAndDepthRemainder) {
    Rng rng(52);
    for (int32_t units = 1; units <= 13; ++units) {
        for (int32_t depth = 1; depth <= 41; depth += 1 + (depth > 17 ? 4 : 0)) {
            const FcCase c = RandomS8FcCaseOfShape(rng, 3, units, depth);
            SCOPED_TRACE(c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunFullyConnected(c, false, &got), NN_OK);
            ASSERT_TRUE(BytesEqual(got, OracleFullyConnected(c)));
        }
    }
}

// Rows read whole words at a time (a depth that is a multiple of four, from an
// aligned filter) or not: every filter alignment, unit counts 1 to 5 (pairs of
// units, the last of an odd count paired with itself), depths around the steps of
// sixteen, eight and four inputs.
TEST(NnFullyConnectedS8, MatchesOracleWhateverTheFilterAlignment) {
    Rng rng(53);
    for (int32_t filter_offset = 0; filter_offset < 4; ++filter_offset) {
        for (int32_t units = 1; units <= 5; ++units) {
            for (const int32_t depth : {4, 8, 12, 16, 20, 24, 28, 32, 36, 44, 64, 7, 13, 30, 33}) {
                const FcCase c = RandomS8FcCaseOfShape(rng, 2, units, depth);
                SCOPED_TRACE("filter at +" + std::to_string(filter_offset) + ": " + c.Describe());
                std::vector<int8_t> got;
                ASSERT_EQ(RunFullyConnected(c, false, &got, filter_offset), NN_OK);
                ASSERT_TRUE(BytesEqual(got, OracleFullyConnected(c)));
            }
        }
    }
}

TEST(NnFullyConnectedS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const bool s4 : {false, true}) {
        // 65535: rows read word by word; 65532: aligned rows, read two words at a time.
        for (const int32_t depth : {65535, 65532}) {
            for (const int32_t value : {-128, 127}) {
                for (const int32_t offset : {-128, 128}) {
                    FcCase c;
                    c.in = {2, 1, 1, depth};
                    c.filter = {3, 1, 1, depth};
                    c.out = {2, 1, 1, 3};
                    c.params = {offset, 5, {-128, 127}};
                    c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
                    c.weights.assign(static_cast<size_t>(Count(c.filter)), s4 ? -8 : -128);
                    c.weights[static_cast<size_t>(depth) + 7] = s4 ? 7 : 127;
                    c.bias = {kInt32Max, kInt32Min, -5};
                    c.multiplier = {kInt32Max, kInt32Max, 1 << 30};
                    c.shift = {-31, -20, 0};
                    SCOPED_TRACE(std::string(s4 ? "s4 " : "s8 ") + c.Describe());
                    std::vector<int8_t> got;
                    ASSERT_EQ(RunFullyConnected(c, s4, &got), NN_OK);
                    EXPECT_TRUE(BytesEqual(got, OracleFullyConnected(c)));
                }
            }
        }
    }
}

// int32 additions wrap, as TFLite's do on its targets (worked by hand).
TEST(NnFullyConnectedS8, Int32ArithmeticWraps) {
    const nn_dims in = {1, 1, 1, 1}, filter = {1, 1, 1, 1}, out = {1, 1, 1, 1};
    const nn_fc_params relu_free = {0, 0, {-128, 127}};
    std::vector<uint32_t> scratch(1);
    const nn_context ctx = {scratch.data(), 4};
    auto run = [&](int8_t x, int8_t w, int32_t bias, int32_t multiplier, int32_t shift,
                   int32_t output_offset) {
        nn_fc_params p = relu_free;
        p.output_offset = output_offset;
        const nn_per_channel_quant quant = {&multiplier, &shift};
        int8_t y = 0;
        EXPECT_EQ(nn_fully_connected_s8(&ctx, &p, &quant, &in, &x, &filter, &w, &bias, &out, &y),
                  NN_OK);
        return int{y};
    };
    // 1 * 1 + INT32_MAX wraps to INT32_MIN; * 0.5 = -2^30: clamped to -128.
    EXPECT_EQ(run(1, 1, kInt32Max, 1 << 30, 0, 0), -128);
    // Without the wrap, 0 + INT32_MAX, * 0.5 = 2^30: clamped to 127.
    EXPECT_EQ(run(1, 0, kInt32Max, 1 << 30, 0, 0), 127);
    // -1 + INT32_MIN wraps to INT32_MAX.
    EXPECT_EQ(run(-1, 1, kInt32Min, 1 << 30, 0, 0), 127);
    // INT32_MAX * ~1.0 = 2^31 - 2; + 1 = INT32_MAX: 127. + 127 wraps: -128.
    EXPECT_EQ(run(0, 0, kInt32Max, kInt32Max, 0, 1), 127);
    EXPECT_EQ(run(0, 0, kInt32Max, kInt32Max, 0, 127), -128);
    // The left shift wraps: 2^30 << 1 = INT32_MIN, * 0.5 = -2^30: -128.
    EXPECT_EQ(run(0, 0, 1 << 30, 1 << 30, 1, 0), -128);
    // A plain value: (3 * 5 + 100) * 0.5 / 2 = 28.75 -> 29, + 10 = 39.
    EXPECT_EQ(run(3, 5, 100, 1 << 30, -1, 10), 39);
}

TEST(NnFullyConnectedS8, RejectsBadArguments) {
    const nn_dims in = {2, 2, 2, 3}, filter = {4, 1, 1, 12}, out = {2, 1, 1, 4};
    std::vector<int8_t> input(24), weights(48), output(8);
    const int32_t multiplier[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {};
    const nn_per_channel_quant quant = {multiplier, shift};
    const nn_fc_params params = {0, 0, {-128, 127}};
    std::vector<uint32_t> scratch(6);
    for (auto* kernel :
         {&nn_fully_connected_s8, &nn_fully_connected_s4, &nn_fully_connected_sparse_s8}) {
        nn_context ctx = {scratch.data(), 24};
        auto run = [&](const nn_dims& i, const nn_dims& f, const nn_dims& o) {
            return kernel(&ctx, &params, &quant, &i, input.data(), &f, weights.data(), nullptr, &o,
                          output.data());
        };
        EXPECT_EQ(run(in, filter, out), NN_OK);
        EXPECT_EQ(run(in, {4, 1, 1, 11}, out), NN_ARG_ERROR);
        EXPECT_EQ(run(in, {4, 2, 1, 6}, out), NN_ARG_ERROR);
        EXPECT_EQ(run(in, filter, {2, 1, 1, 5}), NN_ARG_ERROR);
        EXPECT_EQ(run(in, filter, {1, 1, 1, 4}), NN_ARG_ERROR);
        EXPECT_EQ(run(in, filter, {2, 2, 1, 4}), NN_ARG_ERROR);
        ctx.size = 23;
        EXPECT_EQ(run(in, filter, out), NN_ARG_ERROR);
        ctx = {nullptr, 0};
        EXPECT_EQ(run(in, filter, out), NN_ARG_ERROR);
        ctx = {scratch.data(), 24};
        const nn_fc_params bad = {0, 0, {3, 2}};
        EXPECT_EQ(kernel(&ctx, &bad, &quant, &in, input.data(), &filter, weights.data(), nullptr,
                         &out, output.data()),
                  NN_ARG_ERROR);
    }
}

// ---------------------------------------------------------------------------
// Sparse fully connected: against the oracle and bit for bit against
// nn_fully_connected_s8 on the same (dense) weights.

TEST(NnFullyConnectedSparseS8, MatchesDenseAndOracleAtEverySparsity) {
    Rng rng(54);
    for (const double sparsity : kSparsities) {
        for (int i = 0; i < 300; ++i) {
            FcCase c = RandomFcCase(rng, false);
            Sparsify(rng, &c.weights, c.filter.c, sparsity);
            SCOPED_TRACE("sparsity " + std::to_string(sparsity) + ", case " + std::to_string(i) +
                         ": " + c.Describe());
            ExpectSparseFcMatches(c);
        }
    }
}

// Depths around the 32-weight words of the bitmap (whole words, a partial
// last word of every length), every filter alignment, one to five units, zero
// rows, up to every weight zero.
TEST(NnFullyConnectedSparseS8, MatchesDenseForEveryDepthRemainderAndAlignment) {
    Rng rng(55);
    for (int32_t depth = 1; depth <= 100; depth += depth < 70 ? 1 : 7) {
        for (int32_t units = 1; units <= 5; ++units) {
            FcCase c = RandomS8FcCaseOfShape(rng, 2, units, depth);
            Sparsify(rng, &c.weights, depth, rng.Pick<double>({0.0, 0.5, 0.7, 0.8, 0.95, 1.0}),
                     0.2);
            const int32_t filter_offset = rng.Int(0, 3);
            SCOPED_TRACE("filter at +" + std::to_string(filter_offset) + ": " + c.Describe());
            ExpectSparseFcMatches(c, filter_offset);
        }
    }
}

// Bits past a row's last weight are documented as 0; both builds ignore them
// all the same (the optimised kernel reads whole words of the bitmap).
TEST(NnFullyConnectedSparseS8, IgnoresBitsPastTheRowEnd) {
    Rng rng(56);
    for (const int32_t depth : {1, 7, 9, 31, 33, 45}) {
        FcCase c = RandomS8FcCaseOfShape(rng, 1, 3, depth);
        Sparsify(rng, &c.weights, depth, 0.5, 0.0);
        auto packed = PackSparse(c.weights, 3, depth);
        const int32_t bitmap_bytes = (depth + 7) / 8;
        for (int32_t u = 0; u < 3; ++u) {
            packed[static_cast<size_t>((u + 1) * bitmap_bytes - 1)] |=
                static_cast<int8_t>(0xFFu >> (depth % 8 == 0 ? 8 : depth % 8));
        }
        Scratch scratch(nn_fully_connected_sparse_s8_get_buffer_size(&c.in, &c.filter));
        std::vector<int8_t> out(3);
        const nn_per_channel_quant quant = {c.multiplier.data(), c.shift.data()};
        ASSERT_EQ(nn_fully_connected_sparse_s8(
                      scratch.ctx(), &c.params, &quant, &c.in, c.input.data(), &c.filter,
                      packed.data(), c.bias.empty() ? nullptr : c.bias.data(), &c.out, out.data()),
                  NN_OK);
        EXPECT_TRUE(BytesEqual(out, OracleFullyConnected(c))) << "depth " << depth;
    }
}

TEST(NnFullyConnectedSparseS8, ExtremeValuesAtTheDeepestAccumulation) {
    for (const int32_t value : {-128, 127}) {
        for (const int32_t offset : {-128, 128}) {
            for (const bool half_zero : {false, true}) {
                FcCase c;
                c.in = {2, 1, 1, 65535};
                c.filter = {3, 1, 1, 65535};
                c.out = {2, 1, 1, 3};
                c.params = {offset, 5, {-128, 127}};
                c.input.assign(static_cast<size_t>(Count(c.in)), static_cast<int8_t>(value));
                c.weights.assign(static_cast<size_t>(Count(c.filter)), -128);
                c.weights[65535 + 7] = 127;
                for (size_t i = 1; half_zero && i < c.weights.size(); i += 2) {
                    c.weights[i] = 0;
                }
                c.bias = {kInt32Max, kInt32Min, -5};
                c.multiplier = {kInt32Max, kInt32Max, 1 << 30};
                c.shift = {-31, -20, 0};
                SCOPED_TRACE(c.Describe() + (half_zero ? ", half zero" : ""));
                ExpectSparseFcMatches(c);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Depthwise convolution with packed 4-bit weights: the same cases and oracle as
// nn_depthwise_conv_s8, the filter packed as one row.

// A random depthwise case with weights in [-8, 7], and shifts and biases drawn
// for their smaller products.
DwCase RandomDwS4Case(Rng& rng) {
    DwCase c = RandomDwCase(rng);
    const int64_t depth = int64_t{c.filter.h} * c.filter.w;
    c.weights = rng.S4s(Count(c.filter));
    c.bias = rng.Bias(c.filter.c, depth, kS4Term);
    for (auto& shift : c.shift) {
        shift = rng.Shift(depth, kS4Term);
    }
    return c;
}

TEST(NnDepthwiseConvS4, MatchesOracleOnRandomCases) {
    Rng rng(23);
    for (int i = 0; i < 800; ++i) {
        const DwCase c = RandomDwS4Case(rng);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> got;
        ASSERT_EQ(RunDepthwise(c, &got, true), NN_OK);
        ASSERT_TRUE(BytesEqual(got, OracleDepthwise(c)));
    }
}

// Every channel count against the groups of four and the channels left over
// (a group's taps start on odd nibbles when C_out is odd), 3x3 and 5x5 windows
// with their interior runs and clipped borders, other windows, channel
// multipliers 1 to 3, strides 1 to 3, VALID / SAME / free padding.
TEST(NnDepthwiseConvS4, MatchesOracleForEveryChannelRemainderAndWindow) {
    Rng rng(24);
    for (const int32_t in_c : {1, 2, 3, 4, 5, 7, 8, 9, 12, 17, 32}) {
        for (int i = 0; i < 40; ++i) {
            const int32_t k_h = rng.Pick<int32_t>({3, 3, 5, 5, 1, 2, 7});
            const int32_t k_w = rng.Chance(0.8) ? k_h : rng.Int(1, 5);
            const int32_t ch_mult = rng.Chance(0.75) ? 1 : rng.Int(2, 3);
            const DwCase c = RandomDwCaseOfShape(rng, in_c, k_h, k_w, ch_mult, true);
            SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
            std::vector<int8_t> got;
            ASSERT_EQ(RunDepthwise(c, &got, true), NN_OK);
            ASSERT_TRUE(BytesEqual(got, OracleDepthwise(c)));
        }
    }
}

// The same values as int8 and as packed int4 weights give the same output.
TEST(NnDepthwiseConvS4, AgreesWithS8OnTheSameWeights) {
    Rng rng(25);
    for (int i = 0; i < 200; ++i) {
        const DwCase c = RandomDwS4Case(rng);
        SCOPED_TRACE("case " + std::to_string(i) + ": " + c.Describe());
        std::vector<int8_t> s4, s8;
        ASSERT_EQ(RunDepthwise(c, &s4, true), NN_OK);
        ASSERT_EQ(RunDepthwise(c, &s8), NN_OK);
        EXPECT_EQ(s4, s8);
    }
}

// ---------------------------------------------------------------------------
// Element-wise add.

// tflite::reference_integer_ops::AddElementwise (int8).
int8_t OracleAdd(const nn_add_params& p, int8_t a, int8_t b) {
    const int32_t x1 = Wrap32((int64_t{a} + p.input1_offset) * (int64_t{1} << p.left_shift));
    const int32_t x2 = Wrap32((int64_t{b} + p.input2_offset) * (int64_t{1} << p.left_shift));
    const int32_t scaled1 = OracleRequantize(x1, p.input1_multiplier, p.input1_shift);
    const int32_t scaled2 = OracleRequantize(x2, p.input2_multiplier, p.input2_shift);
    const int32_t raw_sum = Wrap32(int64_t{scaled1} + scaled2);
    const int32_t raw_out = Wrap32(
        int64_t{OracleRequantize(raw_sum, p.output_multiplier, p.output_shift)} + p.output_offset);
    return OracleClamp(raw_out, p.activation.min, p.activation.max);
}

nn_add_params RandomAddParams(Rng& rng) {
    nn_add_params p{};
    const bool realistic = rng.Chance(0.7);
    p.input1_offset = rng.InputOffset();
    p.input2_offset = rng.InputOffset();
    p.left_shift = realistic ? 20 : rng.Int(0, 22);
    p.input1_multiplier = rng.Multiplier();
    p.input2_multiplier = rng.Multiplier();
    // TFLite: inputs scaled by in_scale / (2 * max_scale) <= 0.5, the output by
    // 2 * max_scale / (2^20 * out_scale).
    p.input1_shift = realistic ? rng.Int(-4, 0) : rng.Int(-31, 30);
    p.input2_shift = realistic ? rng.Int(-4, 0) : rng.Int(-31, 30);
    p.output_multiplier = rng.Multiplier();
    p.output_shift = realistic ? rng.Int(-22, -17) : rng.Int(-31, 30);
    p.output_offset = rng.OutputOffset();
    p.activation = rng.Activation(p.output_offset);
    return p;
}

TEST(NnAddS8, MatchesOracleOnRandomCases) {
    Rng rng(60);
    for (int i = 0; i < 1000; ++i) {
        const nn_dims dims = {rng.Int(1, 2), rng.Int(1, 5), rng.Int(1, 5), rng.Int(1, 9)};
        const nn_add_params p = RandomAddParams(rng);
        const auto a = rng.S8s(Count(dims)), b = rng.S8s(Count(dims));
        SCOPED_TRACE("case " + std::to_string(i) + ": " + Str(dims));
        std::vector<int8_t> want(a.size());
        for (size_t k = 0; k < a.size(); ++k) {
            want[k] = OracleAdd(p, a[k], b[k]);
        }
        Scratch scratch(nn_add_s8_get_buffer_size(&dims));
        Output out(Count(dims));
        ASSERT_EQ(nn_add_s8(scratch.ctx(), &p, &dims, a.data(), b.data(), out.data()), NN_OK);
        EXPECT_TRUE(out.GuardIntact());
        EXPECT_TRUE(BytesEqual(out.values(), want));
        // In place, into either input.
        auto in_place = a;
        ASSERT_EQ(nn_add_s8(nullptr, &p, &dims, in_place.data(), b.data(), in_place.data()), NN_OK);
        EXPECT_TRUE(BytesEqual(in_place, want));
        in_place = b;
        ASSERT_EQ(nn_add_s8(nullptr, &p, &dims, a.data(), in_place.data(), in_place.data()), NN_OK);
        EXPECT_TRUE(BytesEqual(in_place, want));
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

TEST(NnAddS8, RejectsBadArguments) {
    const nn_dims dims = {1, 2, 2, 2};
    std::vector<int8_t> a(8), b(8), out(8);
    nn_add_params good{};
    good.left_shift = 20;
    good.input1_multiplier = good.input2_multiplier = good.output_multiplier = 1 << 30;
    good.input1_shift = good.input2_shift = -1;
    good.output_shift = -19;
    good.activation = {-128, 127};
    EXPECT_EQ(nn_add_s8(nullptr, &good, &dims, a.data(), b.data(), out.data()), NN_OK);
    const std::vector<void (*)(nn_add_params&)> breakers = {
        [](nn_add_params& p) { p.left_shift = 23; },
        [](nn_add_params& p) { p.left_shift = -1; },
        [](nn_add_params& p) { p.input1_shift = 31; },
        [](nn_add_params& p) { p.input2_shift = -32; },
        [](nn_add_params& p) { p.output_shift = 31; },
        [](nn_add_params& p) { p.input1_offset = 129; },
        [](nn_add_params& p) { p.output_offset = 128; },
        [](nn_add_params& p) { p.activation = {1, 0}; },
    };
    for (size_t i = 0; i < breakers.size(); ++i) {
        nn_add_params p = good;
        breakers[i](p);
        EXPECT_EQ(nn_add_s8(nullptr, &p, &dims, a.data(), b.data(), out.data()), NN_ARG_ERROR)
            << "breaker " << i;
    }
    EXPECT_EQ(nn_add_s8(nullptr, &good, &dims, nullptr, b.data(), out.data()), NN_ARG_ERROR);
    EXPECT_EQ(nn_add_s8(nullptr, nullptr, &dims, a.data(), b.data(), out.data()), NN_ARG_ERROR);
    const nn_dims empty = {1, 0, 2, 2};
    EXPECT_EQ(nn_add_s8(nullptr, &good, &empty, a.data(), b.data(), out.data()), NN_ARG_ERROR);
}

}  // namespace
