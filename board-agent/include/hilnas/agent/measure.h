// One measurement of an int8 model on one board: build (or reuse) its
// firmware, load it, handshake, check on-device outputs against the host
// runtime for K inputs of the job's validation split, time N inferences after
// W warm-ups, read SRAM and flash, and energy from a meter or the catalogue's
// estimate. Every figure carries its source and provenance.
//
// Definitions (shared/ARCHITECTURE.md, "the definitions of the figures"):
//   sram_bytes  = .data + .bss (arena included) + the stack high-water mark
//   flash_bytes = .text + .rodata + .data of the ELF (.text counting the
//                 vector table and the unwind index, which live in flash too)
//   latency_ms  = median of the timed runs (p10 and p90 beside it)
//   energy_uj   = per inference: between the meter's timestamp events, or
//                 supply voltage x datasheet run current x latency (estimated)
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hilnas/agent/board.h"
#include "hilnas/agent/firmware_cache.h"
#include "hilnas/agent/inventory.h"
#include "hilnas/common/errors.h"
#include "hilnas/v1/farm_service.pb.h"

namespace hilnas::agent {

class EnergyMeter;

// Why a measurement failed decides what FarmService hears.
enum class FailureKind {
    kBoard,       // the board or its probe failed (a board fault: the health check runs next)
    kModel,       // the model misbehaves on the board (outputs differ, an invalid artifact)
    kInfeasible,  // the model does not fit the board: the trial is infeasible
    kAgent,       // this host cannot do it (no toolchain, no dataset): retry elsewhere
    kCancelled,   // the lease was lost or the agent is stopping
};
const char* FailureKindName(FailureKind kind);

class MeasureError : public std::runtime_error {
  public:
    MeasureError(FailureKind kind, const std::string& reason)
        : std::runtime_error(reason), kind_(kind) {}
    FailureKind kind() const { return kind_; }

  private:
    FailureKind kind_;
};

struct MeasureRequest {
    v1::Int8Model model;
    v1::MeasurementSettings settings;         // warm-ups, timed runs, check inputs
    std::vector<std::vector<int8_t>> inputs;  // check inputs: [H, W, C] int8 each; >= 1
    std::string inputs_source;                // e.g. "fashion-mnist validation[0..2]"
    std::string runtime_variant = "cortex_m";
    std::string fault;                // firmware fault injection (tests only)
    std::function<bool()> cancelled;  // polled between steps; may be empty
};

// Wall-clock seconds of each step, for the benchmark and the logs.
struct TimeSplit {
    double codegen = 0;
    double compile = 0;
    double flash_boot = 0;
    double inference = 0;
    double energy = 0;  // the meter's separate run, when a meter is attached
    bool cache_hit = false;
};

struct MeasureResult {
    v1::Measurement measurement;
    std::string elf_path;  // the firmware that ran (in the cache)
    TimeSplit time;
};

class Measurer {
  public:
    // `meter` may be null (energy is then estimated). All must outlive the Measurer.
    Measurer(const BoardConfig& board, BoardConnection& connection, FirmwareCache& cache,
             EnergyMeter* meter, std::string agent_id);

    // Throws MeasureError, never anything else.
    MeasureResult Measure(const MeasureRequest& request);

  private:
    BoardConfig board_;
    BoardConnection& connection_;
    FirmwareCache& cache_;
    EnergyMeter* meter_;
    std::string agent_id_;
};

// Median and percentiles of per-run ticks: nearest-rank on the sorted values.
double Percentile(std::vector<uint64_t> values, double p);

}  // namespace hilnas::agent
