// Scrambled Halton points in [0, 1)^d for the warm-up and the candidate pool.
//
// Dimension j uses the j-th prime as its base; every digit position of every
// dimension has its own random permutation of the digits (random digit
// scrambling), which removes the correlations that plain Halton shows between
// the high dimensions. The sequence is a pure function of (dimension, seed):
// point i is the same whichever points were asked for before it.
#pragma once

#include <cstdint>
#include <vector>

namespace hilnas::optimizer {

class ScrambledHalton {
  public:
    ScrambledHalton(int dimension, uint64_t seed);

    int dimension() const { return static_cast<int>(bases_.size()); }
    // The point with this index (0, 1, 2, ...).
    std::vector<double> Point(uint64_t index) const;

  private:
    std::vector<int> bases_;
    // permutations_[j][k * base + digit]: the digit at position k of dimension j.
    std::vector<std::vector<int>> permutations_;
    std::vector<int> digits_;  // positions used per dimension (enough for a double)
};

// The first `count` primes.
std::vector<int> FirstPrimes(int count);

}  // namespace hilnas::optimizer
