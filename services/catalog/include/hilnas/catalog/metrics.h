// The trial metrics hilnas records, owned once: each one's name, where it
// comes from (its MetricSource) and unit. The trainer reports them and takes
// each one's source from here (a name missing here is a programming error it
// refuses to send); the controller turns some of them into objectives; the
// command line and dashboards show them. One spelling, here.
#pragma once

#include <span>
#include <string_view>

#include "hilnas/v1/trial.pb.h"

namespace hilnas::catalog {

// Accuracy of the exported int8 model on the host runtime (bit-exact with the
// boards). The validation split (carved from the training set with a seeded
// split) is what the optimiser sees: error = 1 - int8_val_accuracy. The test
// split is reported, never optimised.
inline constexpr const char* kInt8ValAccuracy = "int8_val_accuracy";
inline constexpr const char* kInt8TestAccuracy = "int8_accuracy";

// The cost model's predictions of what a board agent measures (source computed).
inline constexpr const char* kPredictedSramBytes = "predicted_sram_bytes";
inline constexpr const char* kPredictedFlashBytes = "predicted_flash_bytes";

struct Metric {
    std::string_view name;
    v1::MetricSource source;
    std::string_view unit;     // "fraction", "bytes", "MACs", "count", "s", "images/s"
    std::string_view meaning;  // one line
};

// Every metric a trial can carry, in a fixed order.
std::span<const Metric> Metrics();

// The entry named `name`; nullptr when the catalogue has none.
const Metric* FindMetric(std::string_view name);

}  // namespace hilnas::catalog
