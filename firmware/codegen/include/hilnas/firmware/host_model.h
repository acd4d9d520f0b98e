// The int8 runtime on the host: runs an artifact with the same kernels, the
// same arena plan and the same calls as the generated firmware, so its
// outputs are the board's, bit for bit. The trainer reports int8 accuracy
// with it; the tests use it as the oracle for the firmware.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "hilnas/v1/artifact.pb.h"

namespace hilnas::firmware {

struct Lowered;

class HostModel {
  public:
    // Validates and plans; throws InvalidArgument for a bad artifact.
    explicit HostModel(v1::Int8Model model);
    ~HostModel();
    HostModel(HostModel&&) noexcept;
    HostModel& operator=(HostModel&&) noexcept;

    int64_t input_bytes() const;
    int64_t output_bytes() const;
    int64_t arena_bytes() const;
    const v1::Int8Model& model() const { return model_; }

    // Runs one inference: `input` is the int8 [H, W, C] tensor. Returns the
    // int8 outputs. Throws Internal if a kernel refuses (a validation gap).
    std::vector<int8_t> Run(std::span<const int8_t> input);

    // Quantises a real input as the firmware receives it: round(x / scale) + zero_point, clamped.
    std::vector<int8_t> QuantizeInput(std::span<const float> real) const;

  private:
    v1::Int8Model model_;
    std::unique_ptr<Lowered> lowered_;
    std::vector<int8_t> arena_;  // 16-byte aligned storage below
};

}  // namespace hilnas::firmware
