// The health check (LAVA-style): a known model with a known output, measured
// on the board through the same path as any trial. Run when the agent starts,
// after every board fault, and by `hilnas-agent check`.
#pragma once

#include <string>

#include "hilnas/agent/measure.h"

namespace hilnas::agent {

struct HealthResult {
    bool ok = false;
    std::string reason;  // why not, or "outputs match the host runtime; 1.234 ms"
    double seconds = 0;
};

// The health-check model: small, every kernel kind the runtime has, fixed
// random weights; its input is fixed too, and its expected output is the host
// runtime's.
const v1::Int8Model& HealthCheckModel();

// Measures the health-check model on the board (build cached). Never throws
// for the board's failures: they are the result.
HealthResult CheckHealth(Measurer& measurer, const std::string& fault = {});

}  // namespace hilnas::agent
