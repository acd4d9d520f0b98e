#include "hilnas/optimizer/quasi_random.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "hilnas/common/errors.h"

namespace hilnas::optimizer {

std::vector<int> FirstPrimes(int count) {
    std::vector<int> primes;
    for (int c = 2; static_cast<int>(primes.size()) < count; ++c) {
        bool prime = true;
        for (int p : primes) {
            if (p * p > c) break;
            if (c % p == 0) {
                prime = false;
                break;
            }
        }
        if (prime) primes.push_back(c);
    }
    return primes;
}

ScrambledHalton::ScrambledHalton(int dimension, uint64_t seed) {
    if (dimension < 1) throw InvalidArgument("halton: dimension must be >= 1");
    bases_ = FirstPrimes(dimension);
    std::mt19937_64 rng(seed);
    for (int b : bases_) {
        // Digits so that b^digits >= 2^53: the point is resolved to a double.
        const int digits = static_cast<int>(std::ceil(53.0 * std::log(2.0) / std::log(b)));
        digits_.push_back(digits);
        std::vector<int> perms(static_cast<size_t>(digits) * static_cast<size_t>(b));
        for (int k = 0; k < digits; ++k) {
            auto first = perms.begin() + static_cast<std::ptrdiff_t>(k) * b;
            std::iota(first, first + b, 0);
            std::shuffle(first, first + b, rng);
        }
        permutations_.push_back(std::move(perms));
    }
}

std::vector<double> ScrambledHalton::Point(uint64_t index) const {
    std::vector<double> x(bases_.size());
    for (size_t j = 0; j < bases_.size(); ++j) {
        const uint64_t b = static_cast<uint64_t>(bases_[j]);
        const std::vector<int>& perm = permutations_[j];
        uint64_t i = index;
        double scale = 1.0 / static_cast<double>(b);
        double v = 0.0;
        for (int k = 0; k < digits_[j]; ++k) {
            const uint64_t digit = i % b;
            i /= b;
            v += perm[static_cast<size_t>(k) * b + digit] * scale;
            scale /= static_cast<double>(b);
        }
        x[j] = std::min(v, std::nextafter(1.0, 0.0));
    }
    return x;
}

}  // namespace hilnas::optimizer
