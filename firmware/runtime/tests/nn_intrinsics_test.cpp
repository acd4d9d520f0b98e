// The C models of the DSP intrinsics (src/cortex_m/nn_intrinsics.h) against the
// instructions' definitions in the Armv7-M Architecture Reference Manual, written
// here lane by lane. The optimised kernels are only as exact as these models.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "nn_intrinsics_shim.h"

namespace {

int32_t Byte(uint32_t x, int i) { return static_cast<int8_t>(static_cast<uint8_t>(x >> (8 * i))); }
int32_t Half(uint32_t x, int i) {
    return static_cast<int16_t>(static_cast<uint16_t>(x >> (16 * i)));
}
uint32_t Halves(int64_t lo, int64_t hi) {
    return (static_cast<uint32_t>(static_cast<uint64_t>(lo)) & 0xFFFFu) |
           (static_cast<uint32_t>(static_cast<uint64_t>(hi)) << 16);
}
uint32_t Bytes(const std::array<int32_t, 4>& b) {
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
        r |= (static_cast<uint32_t>(b[i]) & 0xFFu) << (8 * i);
    }
    return r;
}
int32_t Wrap(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }
int32_t Saturate(int64_t v) {
    return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, INT32_MIN), INT32_MAX));
}

// Edge patterns plus random words.
std::vector<uint32_t> Words() {
    std::vector<uint32_t> words = {0u,          1u,          0x7Fu,       0x80u,       0xFFu,
                                   0x7FFFu,     0x8000u,     0xFFFFu,     0x7F7F7F7Fu, 0x80808080u,
                                   0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0x00FF00FFu, 0xFF00FF00u,
                                   0x80017FFEu, 0x12345678u, 0xDEADBEEFu};
    std::mt19937 rng(20240611);
    for (int i = 0; i < 200; ++i) {
        words.push_back(rng());
    }
    return words;
}

TEST(NnIntrinsics, CountsLeadingZerosAndReversesBytes) {
    for (const uint32_t x : Words()) {
        if (x != 0) {
            int32_t zeros = 0;
            while (((x << zeros) & 0x80000000u) == 0) {
                ++zeros;
            }
            EXPECT_EQ(nn_shim_clz(x), zeros) << std::hex << x;
        }
        EXPECT_EQ(nn_shim_rev(x), Bytes({Byte(x, 3), Byte(x, 2), Byte(x, 1), Byte(x, 0)}))
            << std::hex << x;
    }
}

TEST(NnIntrinsics, SignExtendsBytePairs) {
    for (const uint32_t x : Words()) {
        EXPECT_EQ(nn_shim_sxtb16(x), Halves(Byte(x, 0), Byte(x, 2))) << std::hex << x;
        EXPECT_EQ(nn_shim_sxtb16_ror8(x), Halves(Byte(x, 1), Byte(x, 3))) << std::hex << x;
    }
}

TEST(NnIntrinsics, AddsSignExtendedBytePairsModulo16Bits) {
    const auto words = Words();
    for (const uint32_t acc : words) {
        for (size_t i = 0; i < words.size(); i += 7) {
            const uint32_t x = words[i];
            EXPECT_EQ(nn_shim_sxtab16(acc, x),
                      Halves(Half(acc, 0) + Byte(x, 0), Half(acc, 1) + Byte(x, 2)));
            EXPECT_EQ(nn_shim_sxtab16_ror8(acc, x),
                      Halves(Half(acc, 0) + Byte(x, 1), Half(acc, 1) + Byte(x, 3)));
            EXPECT_EQ(nn_shim_sadd16(acc, x),
                      Halves(Half(acc, 0) + Half(x, 0), Half(acc, 1) + Half(x, 1)));
        }
    }
}

TEST(NnIntrinsics, MultiplyAccumulatesHalvesModulo32Bits) {
    const auto words = Words();
    const std::array<int32_t, 5> accs = {0, 1, -1, INT32_MAX, INT32_MIN};
    for (const uint32_t x : words) {
        for (size_t i = 0; i < words.size(); i += 5) {
            const uint32_t y = words[i];
            for (const int32_t acc : accs) {
                const int64_t lo = static_cast<int64_t>(Half(x, 0)) * Half(y, 0);
                const int64_t hi = static_cast<int64_t>(Half(x, 1)) * Half(y, 1);
                EXPECT_EQ(nn_shim_smlad(x, y, acc), Wrap(acc + lo + hi));
                EXPECT_EQ(nn_shim_smlabb(x, y, acc), Wrap(acc + lo));
                EXPECT_EQ(nn_shim_smlatt(x, y, acc), Wrap(acc + hi));
            }
        }
    }
    // The one sum that leaves int32: (-32768)^2 + (-32768)^2 = 2^31 wraps to INT32_MIN.
    EXPECT_EQ(nn_shim_smlad(0x80008000u, 0x80008000u, 0), INT32_MIN);
}

TEST(NnIntrinsics, PacksHalfwords) {
    const auto words = Words();
    for (const uint32_t a : words) {
        for (size_t i = 0; i < words.size(); i += 11) {
            const uint32_t b = words[i];
            EXPECT_EQ(nn_shim_pkhbt16(a, b), Halves(Half(a, 0), Half(b, 0)));
            EXPECT_EQ(nn_shim_pkhtb16(a, b), Halves(Half(b, 1), Half(a, 1)));
        }
    }
}

TEST(NnIntrinsics, SaturatingAddAndSubtract) {
    const std::array<int32_t, 9> values = {
        0, 1, -1, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30)};
    for (const int32_t a : values) {
        for (const int32_t b : values) {
            EXPECT_EQ(nn_shim_qadd(a, b), Saturate(static_cast<int64_t>(a) + b));
            EXPECT_EQ(nn_shim_qsub(a, b), Saturate(static_cast<int64_t>(a) - b));
        }
    }
}

// gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, written
// as gemmlowp writes them, and TFLite's MultiplyByQuantizedMultiplier on top.
int32_t GemmlowpDoublingHighMul(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = static_cast<int64_t>(a) * b;
    const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
    return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t GemmlowpDivideByPot(int32_t x, int exponent) {
    const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t TfliteRequantize(int32_t acc, int32_t multiplier, int32_t shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t shifted = Wrap(static_cast<int64_t>(acc) * (int64_t{1} << left));
    return GemmlowpDivideByPot(GemmlowpDoublingHighMul(shifted, multiplier), right);
}

// int32 edge values, every power of two and its neighbours, and random words.
std::vector<int32_t> Int32s() {
    std::vector<int32_t> values = {INT32_MIN, INT32_MIN + 1, -(1 << 30),    -3,       -1, 0, 1,
                                   3,         1 << 30,       INT32_MAX - 1, INT32_MAX};
    for (int k = 0; k < 31; ++k) {
        for (const int64_t v :
             {int64_t{1} << k, (int64_t{1} << k) + 1, (int64_t{1} << k) - 1, int64_t{3} << k}) {
            values.push_back(Wrap(v));
            values.push_back(Wrap(-v));
        }
    }
    for (const uint32_t w : Words()) {
        values.push_back(static_cast<int32_t>(w));
    }
    return values;
}

// The kernels' branch-free SaturatingRoundingDoublingHighMul (nn_support.h)
// against gemmlowp's definition.
TEST(NnIntrinsics, DoublingHighMulWithoutABranchMatchesGemmlowp) {
    const auto values = Int32s();
    for (const int32_t a : values) {
        for (const int32_t b : values) {
            ASSERT_EQ(nn_shim_cm_doubling_high_mult(a, b), GemmlowpDoublingHighMul(a, b))
                << a << " " << b;
        }
    }
}

// ADDS / ASRS / ADC: RoundingDivideByPOT plus an addend in three instructions,
// for every exponent and every dividend a doubling high multiply can return
// (all but INT32_MIN).
TEST(NnIntrinsics, RoundingShiftAndAddMatchesGemmlowp) {
    for (const int32_t y : Int32s()) {
        if (y == INT32_MIN) {
            continue;
        }
        for (int e = 0; e <= 31; ++e) {
            for (const int32_t add : {0, 1, -1, 127, -128, INT32_MAX, INT32_MIN}) {
                ASSERT_EQ(nn_shim_round_shift_add(y, e, add),
                          Wrap(int64_t{GemmlowpDivideByPot(y, e)} + add))
                    << y << " " << e << " " << add;
            }
        }
    }
}

// The kernels' requantisation (nn_cm_requantize) against TFLite's, with the
// output offset added modulo 2^32, for every shift of the valid range and any
// multiplier (INT32_MIN and negative ones included).
TEST(NnIntrinsics, RequantizeMatchesTflite) {
    const auto values = Int32s();
    std::mt19937 rng(20261201);
    for (const int32_t acc : values) {
        for (size_t i = 0; i < values.size(); i += 3) {
            const int32_t multiplier = values[i];
            const int32_t shift = static_cast<int32_t>(rng() % 62) - 31;
            const int32_t offset = static_cast<int32_t>(rng() % 256) - 128;
            ASSERT_EQ(nn_shim_cm_requantize(acc, multiplier, shift, offset),
                      Wrap(int64_t{TfliteRequantize(acc, multiplier, shift)} + offset))
                << acc << " " << multiplier << " " << shift << " " << offset;
        }
    }
}

TEST(NnIntrinsics, SaturatesToInt8AndPacksBytes) {
    for (const int32_t v : Int32s()) {
        EXPECT_EQ(nn_shim_ssat8(v), std::min(std::max(v, -128), 127)) << v;
    }
    const auto words = Words();
    for (size_t i = 0; i + 3 < words.size(); ++i) {
        const uint32_t b0 = words[i], b1 = words[i + 1], b2 = words[i + 2], b3 = words[i + 3];
        EXPECT_EQ(nn_shim_pack_u8x4(b0, b1, b2, b3),
                  Bytes({Byte(b0, 0), Byte(b1, 0), Byte(b2, 0), Byte(b3, 0)}));
        EXPECT_EQ(nn_shim_pack_u8x2(b0, b1), (b0 & 0xFFFF0000u) | (b1 & 0xFFu) << 8 | (b0 & 0xFFu));
    }
}

// Four requantised outputs saturated to int8, packed and clamped to the
// activation: the bytes the scalar clamp would store.
TEST(NnIntrinsics, PacksAndClampsFourOutputs) {
    const auto values = Int32s();
    const std::array<std::array<int32_t, 2>, 5> activations = {
        {{-128, 127}, {0, 127}, {-5, 6}, {-128, -128}, {127, 127}}};
    for (const auto& act : activations) {
        for (size_t i = 0; i + 3 < values.size(); i += 2) {
            std::array<int32_t, 4> clamped{};
            for (int k = 0; k < 4; ++k) {
                clamped[k] = std::min(std::max(values[i + k], act[0]), act[1]);
            }
            EXPECT_EQ(nn_shim_cm_pack_output4(values[i], values[i + 1], values[i + 2],
                                              values[i + 3], act[0], act[1]),
                      Bytes(clamped));
        }
    }
}

TEST(NnIntrinsics, LoadsThatStepTheirPointer) {
    alignas(4) const uint8_t bytes[12] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                          0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC};
    uint32_t v = 0, lo = 0, hi = 0;
    EXPECT_EQ(nn_shim_load_u32_step(bytes + 1, &v), bytes + 5);  // unaligned
    EXPECT_EQ(v, 0x55443322u);
    EXPECT_EQ(nn_shim_load_2u32_step(bytes + 4, &lo, &hi), bytes + 12);
    EXPECT_EQ(lo, 0x88776655u);
    EXPECT_EQ(hi, 0xCCBBAA99u);
    uint8_t out[4] = {0, 0, 0, 0};
    nn_shim_write_u16(out + 1, 0xDEADBEEFu);  // the low halfword, unaligned
    EXPECT_EQ(out[0], 0u);
    EXPECT_EQ(out[1], 0xEFu);
    EXPECT_EQ(out[2], 0xBEu);
    EXPECT_EQ(out[3], 0u);
}

TEST(NnIntrinsics, BytewiseSignedMaxAndMin) {
    const auto words = Words();
    for (const uint32_t a : words) {
        for (size_t i = 0; i < words.size(); i += 3) {
            const uint32_t b = words[i];
            std::array<int32_t, 4> max{}, min{};
            for (int k = 0; k < 4; ++k) {
                max[k] = std::max(Byte(a, k), Byte(b, k));
                min[k] = std::min(Byte(a, k), Byte(b, k));
            }
            EXPECT_EQ(nn_shim_max_s8x4(a, b), Bytes(max));
            EXPECT_EQ(nn_shim_min_s8x4(a, b), Bytes(min));
        }
    }
}

TEST(NnIntrinsics, LoadsAndReplicates) {
    const uint8_t bytes[6] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    EXPECT_EQ(nn_shim_read_u32(bytes + 1), 0x55443322u);  // unaligned, little-endian
    EXPECT_EQ(nn_shim_dup_s8x4(-128), 0x80808080u);
    EXPECT_EQ(nn_shim_dup_s8x4(127), 0x7F7F7F7Fu);
    EXPECT_EQ(nn_shim_dup_s16x2(-128), 0xFF80FF80u);
    EXPECT_EQ(nn_shim_dup_s16x2(128), 0x00800080u);
}

}  // namespace
