// Helpers shared by the search space's source files (space_*.cpp); not part of
// the library's interface.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "hilnas/arch/space.h"

namespace hilnas::arch::detail {

// Walks a Point's genes in a fixed order, either writing each gene into
// [0, 1] (encode) or reading it back (decode). One walk for both directions
// keeps them in step.
class Codec {
  public:
    explicit Codec(std::vector<double>* out) : out_(out) {}
    explicit Codec(const std::vector<double>* in) : in_(in) {}
    bool decoding() const { return in_ != nullptr; }

    int Cat(int index, int choices, bool active = true) {
        const double u = Next((index + 0.5) / choices, active && choices > 1);
        return std::min(static_cast<int>(u * choices), choices - 1);
    }
    int Int(int v, const IntRange& r, bool log, bool active = true) {
        if (r.min == r.max) {
            Next(0.5, false);
            return r.min;
        }
        if (!log) return r.min + Cat(v - r.min, r.max - r.min + 1, active);
        const double lo = std::log(r.min), hi = std::log(r.max);
        const double u = Next((std::log(std::max(v, 1)) - lo) / (hi - lo), active);
        return std::clamp(static_cast<int>(std::lround(std::exp(lo + u * (hi - lo)))), r.min,
                          r.max);
    }
    double Real(double v, const RealRange& r, bool active = true) {
        if (r.min == r.max) {
            Next(0.5, false);
            return r.min;
        }
        if (r.log) {
            const double lo = std::log(r.min), hi = std::log(r.max);
            return std::exp(lo + Next((std::log(v) - lo) / (hi - lo), active) * (hi - lo));
        }
        return r.min + Next((v - r.min) / (r.max - r.min), active) * (r.max - r.min);
    }
    void Skip(int n) {
        for (int i = 0; i < n; ++i) Next(0.5, false);
    }
    // Per dimension: whether it matters for this point and has more than one value.
    const std::vector<bool>& active() const { return active_; }

  private:
    double Next(double value, bool active) {
        active_.push_back(active);
        if (in_ != nullptr) {
            const double u = pos_ < in_->size() ? (*in_)[pos_] : 0.5;
            ++pos_;
            return std::isfinite(u) ? std::clamp(u, 0.0, 1.0) : 0.5;
        }
        const double u = std::clamp(value, 0.0, 1.0);
        out_->push_back(u);
        return u;
    }
    std::vector<double>* out_ = nullptr;
    const std::vector<double>* in_ = nullptr;
    size_t pos_ = 0;
    std::vector<bool> active_;
};

constexpr int kBlockDims = 7;
constexpr int kDenseDims = 2;

// Reads or writes every gene of `p` through `c` (space_encode.cpp).
void Walk(const SearchSpace& s, Point& p, Codec& c);

// The output channels of the input of each block, and its spatial size, as
// BuildModel lays the blocks out.
struct Flow {
    int h, w, c;
};

// The flow after block `b` (space_build.cpp).
Flow After(const Flow& in, const Block& b);

}  // namespace hilnas::arch::detail
