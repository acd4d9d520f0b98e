#include "hilnas/agent/measure.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "hilnas/agent/dut.h"
#include "hilnas/agent/flasher.h"
#include "hilnas/agent/lpm01a.h"
#include "hilnas/arch/cost.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/version.h"
#include "hilnas/firmware/host_model.h"

namespace hilnas::agent {

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string FileSha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return artifact::Sha256Hex(s.str());
}

std::string Hex(const std::vector<int8_t>& v, size_t max = 16) {
    std::string s;
    char b[3];
    for (size_t i = 0; i < std::min(v.size(), max); ++i) {
        std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>(static_cast<uint8_t>(v[i])));
        s += b;
    }
    return s + (v.size() > max ? "..." : "");
}

[[noreturn]] void Fail(FailureKind kind, const std::string& reason) {
    throw MeasureError(kind, reason);
}

// Recovers the board after a failure; a failing recovery (an unplugged probe)
// is added to the reason instead of escaping.
std::string Recover(BoardConnection& connection) {
    try {
        connection.Recover();
        return {};
    } catch (const std::exception& e) {
        return std::string("; recovering the board failed too: ") + e.what();
    }
}

// A link failure that says the model's sections do not fit the part.
bool Overflowed(const std::string& message) {
    return message.find("overflowed by") != std::string::npos ||
           message.find("will not fit in region") != std::string::npos;
}

}  // namespace

const char* FailureKindName(FailureKind kind) {
    switch (kind) {
        case FailureKind::kBoard:
            return "board";
        case FailureKind::kModel:
            return "model";
        case FailureKind::kInfeasible:
            return "infeasible";
        case FailureKind::kAgent:
            return "agent";
        case FailureKind::kCancelled:
            return "cancelled";
    }
    return "unknown";
}

double Percentile(std::vector<uint64_t> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p of the values at or below it.
    const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
    return static_cast<double>(values[std::clamp<size_t>(rank, 1, values.size()) - 1]);
}

Measurer::Measurer(const BoardConfig& board, BoardConnection& connection, FirmwareCache& cache,
                   EnergyMeter* meter, std::string agent_id)
    : board_(board),
      connection_(connection),
      cache_(cache),
      meter_(meter),
      agent_id_(std::move(agent_id)) {}

MeasureResult Measurer::Measure(const MeasureRequest& req) {
    const catalog::BoardType& type = catalog::FindBoardType(board_.type, "board.type");
    const v1::MeasurementSettings& s = req.settings;
    const int warmups = std::max(0, s.warmup_runs());
    const int runs = std::max(1, s.timed_runs());
    auto check_cancel = [&] {
        if (req.cancelled && req.cancelled()) Fail(FailureKind::kCancelled, "measurement stopped");
    };
    if (req.inputs.empty()) Fail(FailureKind::kAgent, "no check inputs to compare outputs on");

    // 1. The model: valid, and small enough for the part before anything is built.
    std::optional<firmware::HostModel> host;
    try {
        const arch::Graph g = artifact::ValidateArtifact(req.model);
        const arch::CostReport cost = arch::ComputeCost(g);
        if (cost.weight_bytes > type.flash_bytes || cost.arena_bytes > type.sram_bytes) {
            Fail(FailureKind::kInfeasible,
                 "does not fit " + type.name + ": weights " + std::to_string(cost.weight_bytes) +
                     " B of " + std::to_string(type.flash_bytes) + " B flash, arena " +
                     std::to_string(cost.arena_bytes) + " B of " + std::to_string(type.sram_bytes) +
                     " B SRAM");
        }
        host.emplace(req.model);
    } catch (const InvalidArgument& e) {
        Fail(FailureKind::kModel, std::string("invalid artifact: ") + e.what());
    }
    for (size_t k = 0; k < req.inputs.size(); ++k) {
        if (static_cast<int64_t>(req.inputs[k].size()) != host->input_bytes()) {
            Fail(FailureKind::kAgent, "check input " + std::to_string(k) + " has " +
                                          std::to_string(req.inputs[k].size()) +
                                          " bytes; the model takes " +
                                          std::to_string(host->input_bytes()));
        }
    }

    // 2. The firmware, from the cache when this model was built for this board before.
    MeasureResult result;
    firmware::BuildOptions bo;
    bo.board = type.name;
    bo.runtime_variant = req.runtime_variant;
    bo.fault = req.fault;
    auto build = [&](bool energy_mode) {
        bo.energy_mode = energy_mode;
        try {
            return cache_.Get(req.model, bo);
        } catch (const InvalidArgument& e) {
            Fail(FailureKind::kModel, std::string("firmware: ") + e.what());
        } catch (const std::exception& e) {
            if (Overflowed(e.what())) {
                Fail(FailureKind::kInfeasible,
                     "the firmware does not fit " + type.name + ": " + e.what());
            }
            Fail(FailureKind::kAgent, std::string("building the firmware: ") + e.what());
        }
    };
    const CachedFirmware fw = build(false);
    result.elf_path = fw.build.elf;
    result.time.cache_hit = fw.hit;
    result.time.codegen = fw.codegen_seconds;
    result.time.compile = fw.compile_seconds;
    const firmware::ElfSizes& sz = fw.build.sizes;
    if (sz.flash_bytes() > type.flash_bytes) {
        Fail(FailureKind::kInfeasible, "the firmware needs " + std::to_string(sz.flash_bytes()) +
                                           " B of flash; " + type.name + " has " +
                                           std::to_string(type.flash_bytes));
    }
    check_cancel();

    // 3. On the board: load, handshake, outputs, timing.
    Inference timed;
    try {
        auto t = Clock::now();
        SerialLink& link = connection_.Start(fw.build.elf);
        DutClient dut(link, board_.command_timeout);
        dut.WaitForBoot();
        const std::string name = dut.Name();
        const std::string board_name = dut.Command("hilnas").Value("m-hilnas-board-");
        if (board_name != type.name) {
            Fail(FailureKind::kBoard, "the board answered as '" + board_name + "' (dut '" + name +
                                          "'), not " + type.name +
                                          ": wrong firmware or wrong port");
        }
        result.time.flash_boot = Since(t);
        check_cancel();

        t = Clock::now();
        for (size_t k = 0; k < req.inputs.size(); ++k) {
            dut.LoadInput(req.inputs[k]);
            // The first input is also the timed one: W warm-ups, then N runs.
            Inference inf = k == 0 ? dut.Infer(runs, warmups) : dut.Infer(1, 0);
            const std::vector<int8_t> expected = host->Run(req.inputs[k]);
            if (inf.output != expected) {
                Fail(FailureKind::kModel,
                     "on-device outputs differ from the host runtime on check input " +
                         std::to_string(k) + " (" + req.inputs_source + "): board " +
                         Hex(inf.output) + ", host " + Hex(expected));
            }
            if (k == 0) timed = std::move(inf);
            check_cancel();
        }
        result.time.inference = Since(t);
    } catch (const MeasureError& e) {
        const std::string more = Recover(connection_);
        throw MeasureError(e.kind(), e.what() + more);
    } catch (const FlashError& e) {
        // A missing tool or an unreadable ELF is this host's problem, not the board's.
        const bool host_fault =
            e.fault() == FlashFault::kToolMissing || e.fault() == FlashFault::kBadElf;
        const std::string more = Recover(connection_);
        Fail(host_fault ? FailureKind::kAgent : FailureKind::kBoard,
             std::string("flashing (") + FlashFaultName(e.fault()) + "): " + e.what() + more);
    } catch (const std::exception& e) {
        // A time-out, a closed port, a malformed reply: the board stopped behaving.
        const std::string more = Recover(connection_);
        Fail(FailureKind::kBoard, e.what() + more);
    }
    if (timed.arena_bytes != static_cast<uint64_t>(fw.build.arena_bytes)) {
        Fail(FailureKind::kModel, "the board reports a " + std::to_string(timed.arena_bytes) +
                                      " B arena; the firmware was planned with " +
                                      std::to_string(fw.build.arena_bytes));
    }
    if (timed.timer_hz == 0 || timed.lap_ticks.size() != static_cast<size_t>(runs)) {
        Fail(FailureKind::kBoard, "the board reported " + std::to_string(timed.lap_ticks.size()) +
                                      " timed runs of " + std::to_string(runs));
    }

    // 4. The figures.
    v1::Measurement& m = result.measurement;
    m.set_board_id(board_.id);
    m.set_board_type(type.name);
    m.set_agent_id(agent_id_);
    const double tick_ms = 1e3 / static_cast<double>(timed.timer_hz);
    const double median = Percentile(timed.lap_ticks, 0.5);
    m.set_latency_ms(median * tick_ms);
    m.set_latency_p10_ms(Percentile(timed.lap_ticks, 0.1) * tick_ms);
    m.set_latency_p90_ms(Percentile(timed.lap_ticks, 0.9) * tick_ms);
    m.set_cycles(static_cast<uint64_t>(std::llround(median * static_cast<double>(timed.cpu_hz) /
                                                    static_cast<double>(timed.timer_hz))));
    m.set_source(type.emulated() ? v1::METRIC_SOURCE_EMULATED : v1::METRIC_SOURCE_MEASURED);
    v1::SramUsage* sram = m.mutable_sram();
    sram->set_arena_bytes(static_cast<int64_t>(timed.arena_bytes));
    sram->set_static_bytes(sz.data + sz.bss - static_cast<int64_t>(timed.arena_bytes));
    sram->set_stack_bytes(static_cast<int64_t>(timed.stack_high_water_bytes));
    sram->set_total_bytes(sz.data + sz.bss + static_cast<int64_t>(timed.stack_high_water_bytes));
    v1::FlashUsage* flash = m.mutable_flash();
    flash->set_text_bytes(sz.isr_vector + sz.text + sz.exidx);
    flash->set_rodata_bytes(sz.rodata);
    flash->set_data_bytes(sz.data);
    flash->set_total_bytes(sz.flash_bytes());
    m.set_outputs_match_host(true);
    m.set_outputs_checked(static_cast<int>(req.inputs.size()));
    v1::Provenance* p = m.mutable_provenance();
    p->set_toolchain(fw.build.toolchain);
    p->set_firmware_sha256(FileSha256(fw.build.elf));
    p->set_clock_hz(static_cast<int64_t>(timed.cpu_hz));
    p->set_timing_method(timed.timer_kind);
    p->set_debugger(connection_.debugger());
    try {
        p->set_debugger_version(connection_.DebuggerVersion());
    } catch (const Error& e) {
        p->set_debugger_version(std::string("unknown: ") + e.what());
    }
    p->set_agent_version(Version());
    p->set_warmup_runs(warmups);
    p->set_timed_runs(runs);
    p->set_runtime_variant(req.runtime_variant);

    // 5. Energy: the meter between the firmware's timestamp edges, or the estimate.
    // The window spans at least a second of inference (at 1 kHz sampling, an
    // edge's rounding to a sample is then under 0.1% of it), as MLPerf Tiny's
    // energy mode runs long windows.
    if (meter_ != nullptr) {
        const auto t = Clock::now();
        const CachedFirmware efw = build(true);
        const int energy_runs =
            std::max(runs, static_cast<int>(std::ceil(1000.0 / std::max(m.latency_ms(), 1e-3))));
        bool capturing = false;
        try {
            SerialLink& link = connection_.Start(efw.build.elf);
            DutClient dut(link, board_.command_timeout +
                                    std::chrono::milliseconds(
                                        static_cast<int64_t>(2 * energy_runs * m.latency_ms())));
            dut.WaitForBoot();
            dut.LoadInput(req.inputs[0]);
            meter_->Begin();
            capturing = true;
            dut.Infer(energy_runs, warmups);
            capturing = false;
            m.set_energy_uj(EnergyPerInferenceUj(meter_->End(), energy_runs));
            m.set_energy_source(v1::METRIC_SOURCE_MEASURED);
            p->set_meter(board_.meter.type);
            p->set_meter_version(meter_->Describe());
        } catch (const std::exception& e) {
            std::string more;
            if (capturing) {
                try {
                    meter_->End();  // never leave the meter capturing
                } catch (const std::exception& x) {
                    more = std::string("; stopping the meter failed: ") + x.what();
                }
            }
            more += Recover(connection_);
            Fail(FailureKind::kBoard, std::string("energy run: ") + e.what() + more);
        }
        result.time.energy = Since(t);
    } else {
        m.set_energy_uj(catalog::EstimatedEnergyUj(type, m.latency_ms()));
        m.set_energy_source(v1::METRIC_SOURCE_ESTIMATED);
    }
    *m.mutable_measured_at() = google::protobuf::util::TimeUtil::GetCurrentTime();
    if (type.emulated()) Recover(connection_);  // an idle emulator is not kept running
    return result;
}

}  // namespace hilnas::agent
