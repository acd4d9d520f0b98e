#include "hilnas/agent/agent.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "hilnas/agent/board.h"
#include "hilnas/agent/health.h"
#include "hilnas/agent/lpm01a.h"
#include "hilnas/agent/measure.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/text.h"
#include "hilnas/common/version.h"
#include "hilnas/dataset/dataset.h"

namespace hilnas::agent {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds ToMillis(const google::protobuf::Duration& d) {
    return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

void SetDuration(std::chrono::milliseconds ms, google::protobuf::Duration* d) {
    d->set_seconds(ms.count() / 1000);
    d->set_nanos(static_cast<int32_t>(ms.count() % 1000) * 1000000);
}

std::string Hostname() {
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
    return buf;
}

std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Sleeps up to `d`, returning early once `stop` is set.
void Nap(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stop.load() && Clock::now() < until) {
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(100),
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now())));
    }
}

// Validation splits, loaded once per (dataset, path, fraction) and shared by the boards.
class DatasetCache {
  public:
    // The first `k` validation images of the job's dataset as int8 inputs.
    std::vector<std::vector<int8_t>> Inputs(const v1::DatasetSpec& spec,
                                            const dataset::Locations& locations, int k,
                                            std::string* source) {
        dataset::Options o;
        o.name = spec.name().empty() ? dataset::kDefaultDataset : spec.name();
        o.path = locations.DirFor(o.name, spec.path());
        if (spec.validation_fraction() > 0) o.validation_fraction = spec.validation_fraction();
        const std::string key = o.name + "|" + o.path + "|" + std::to_string(o.validation_fraction);
        std::lock_guard lock(mu_);
        auto it = splits_.find(key);
        if (it == splits_.end()) {
            const dataset::Dataset d = dataset::Load(o);
            it = splits_.emplace(key, d.validation).first;
        }
        const dataset::Images& v = it->second;
        if (v.size() < k) {
            throw InvalidArgument("the validation split of " + o.name + " has " +
                                      std::to_string(v.size()) + " images; " + std::to_string(k) +
                                      " are needed",
                                  "dataset");
        }
        std::vector<std::vector<int8_t>> out;
        for (int i = 0; i < k; ++i) out.push_back(dataset::Int8Input(v, i));
        *source = o.name + " validation[0.." + std::to_string(k - 1) + "]";
        return out;
    }

  private:
    std::mutex mu_;
    std::map<std::string, dataset::Images> splits_;
};

}  // namespace

std::string ResolveAgentId(const AgentOptions& options, const Inventory& inventory) {
    if (!options.agent_id.empty()) return options.agent_id;
    if (!inventory.agent_id.empty()) return inventory.agent_id;
    return Hostname();
}

std::string ResolveCacheDir(const AgentOptions& options) {
    if (!options.cache_dir.empty()) return options.cache_dir;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::string(xdg) + "/hilnas/firmware";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::string(home) + "/.cache/hilnas/firmware";
    }
    return (std::filesystem::temp_directory_path() / "hilnas-firmware").string();
}

struct Agent::Impl {
    Inventory inventory;
    FarmClient& client;
    AgentOptions options;
    std::string agent_id;
    FirmwareCache cache;
    DatasetCache datasets;
    std::chrono::milliseconds heartbeat{10000};
    std::atomic<int> completed{0};
    std::atomic<bool> quota_reached{false};

    Impl(Inventory inv, FarmClient& c, AgentOptions o)
        : inventory(std::move(inv)),
          client(c),
          options(std::move(o)),
          agent_id(ResolveAgentId(options, inventory)),
          cache(ResolveCacheDir(options)) {}

    bool Stopping(const std::atomic<bool>& stop) const {
        return stop.load() || quota_reached.load();
    }

    void Register(const std::atomic<bool>& stop) {
        v1::RegisterAgentRequest req;
        req.set_agent_id(agent_id);
        req.set_hostname(Hostname());
        req.set_version(Version());
        for (const BoardConfig& b : inventory.boards) *req.add_boards() = ToProto(b);
        while (!stop.load()) {
            try {
                const v1::RegisterAgentResponse resp = client.RegisterAgent(req);
                if (resp.has_heartbeat_interval() &&
                    ToMillis(resp.heartbeat_interval()).count() > 0) {
                    heartbeat = ToMillis(resp.heartbeat_interval());
                }
                spdlog::info("agent {} registered {} board(s)", agent_id, req.boards_size());
                return;
            } catch (const Error& e) {
                if (IsCallersFault(e.code()) && e.code() != ErrorCode::kUnauthenticated) throw;
                spdlog::warn("RegisterAgent failed: {}; retrying", e.what());
                Nap(stop, options.retry_backoff);
            }
        }
    }

    void ReportHealth(const BoardConfig& b, v1::BoardHealth health, const std::string& reason) {
        v1::ReportBoardHealthRequest r;
        r.set_agent_id(agent_id);
        r.set_board_id(b.id);
        r.set_health(health);
        r.set_reason(TruncateUtf8(reason, 1000));  // the controller refuses longer ones
        try {
            client.ReportBoardHealth(r);
        } catch (const Error& e) {
            spdlog::warn("board {}: ReportBoardHealth failed: {}", b.id, e.what());
        }
    }

    // One board's loop.
    void Serve(const BoardConfig& board, const std::atomic<bool>& stop) {
        std::unique_ptr<BoardConnection> connection;
        try {
            connection = Connect(board);
        } catch (const std::exception& e) {
            ReportHealth(board, v1::BOARD_HEALTH_BAD, std::string("cannot drive it: ") + e.what());
            throw;
        }
        std::unique_ptr<EnergyMeter> meter;
        try {
            meter = ConnectMeter(board);
        } catch (const std::exception& e) {
            spdlog::error("board {}: energy meter on {} unavailable ({}); energy will be estimated",
                          board.id, board.meter.port, e.what());
        }
        Measurer measurer(board, *connection, cache, meter.get(), agent_id);
        int faults = 0;  // board faults and failed health checks in a row
        RunHealthCheck(board, measurer, &faults, stop);
        // A board reported BAD gets FAILED_PRECONDITION from LeaseMeasurement until
        // `hilnas-agent check` passes and reports it GOOD; then leases resume.
        while (!Stopping(stop)) {
            v1::LeaseMeasurementRequest req;
            req.set_agent_id(agent_id);
            req.set_board_id(board.id);
            SetDuration(options.lease_wait, req.mutable_wait());
            v1::LeaseMeasurementResponse lease;
            try {
                lease = client.LeaseMeasurement(req);
            } catch (const Error& e) {
                if (e.code() == ErrorCode::kFailedPrecondition) {
                    spdlog::debug("board {}: {}", board.id, e.what());
                    Nap(stop, std::max(options.retry_backoff, options.lease_wait));
                } else {
                    spdlog::warn("board {}: LeaseMeasurement failed: {}", board.id, e.what());
                    Nap(stop, options.retry_backoff);
                }
                continue;
            }
            if (!lease.has_lease() || lease.lease().lease_id().empty()) continue;
            faults = 0;  // leased: the controller holds the board GOOD (again)
            bool ok = false;
            try {
                ok = Handle(board, measurer, lease, &faults, stop);
            } catch (const std::exception& e) {
                // A bug, not the board's or the model's doing: the lease expires and
                // the trial is retried; this board keeps serving.
                spdlog::error("board {}: measuring trial {} failed unexpectedly: {}", board.id,
                              lease.task().trial_id(), e.what());
            }
            const int done = ok ? ++completed : completed.load();
            if (options.max_measurements > 0 && done >= options.max_measurements) {
                quota_reached = true;
            }
        }
    }

    // Returns whether the board passed; reports GOOD, or BAD after the limit.
    bool RunHealthCheck(const BoardConfig& board, Measurer& measurer, int* faults,
                        const std::atomic<bool>& stop) {
        while (!stop.load()) {
            const HealthResult h = CheckHealth(measurer);
            if (h.ok) {
                spdlog::info("board {}: {} ({:.1f} s)", board.id, h.reason, h.seconds);
                *faults = 0;
                ReportHealth(board, v1::BOARD_HEALTH_GOOD, h.reason);
                return true;
            }
            ++*faults;
            spdlog::warn("board {}: {} ({} in a row)", board.id, h.reason, *faults);
            if (*faults >= options.health_failure_limit) {
                ReportHealth(board, v1::BOARD_HEALTH_BAD,
                             std::to_string(*faults) + " failures in a row; last: " + h.reason);
                return false;
            }
            Nap(stop, options.retry_backoff);  // a board that is settling gets a moment
        }
        return false;
    }

    // Measures one leased trial; true when it completed.
    bool Handle(const BoardConfig& board, Measurer& measurer,
                const v1::LeaseMeasurementResponse& lease, int* faults,
                const std::atomic<bool>& stop) {
        const std::string lease_id = lease.lease().lease_id();
        const v1::MeasurementTask& task = lease.task();
        spdlog::info("board {}: measuring trial {} (job {}, attempt {})", board.id, task.trial_id(),
                     task.job_id(), lease.lease().attempt());
        std::atomic<bool> lease_lost{false};
        std::chrono::milliseconds interval = heartbeat;
        if (lease.has_heartbeat_interval() && ToMillis(lease.heartbeat_interval()).count() > 0) {
            interval = ToMillis(lease.heartbeat_interval());
        }
        // Heartbeats on their own thread until the measurement ends, however it ends.
        class Heartbeats {
          public:
            explicit Heartbeats(std::function<void()> beat, std::chrono::milliseconds every)
                : thread_([this, beat = std::move(beat), every] {
                      std::unique_lock lock(mu_);
                      while (!cv_.wait_for(lock, every, [&] { return done_; })) {
                          lock.unlock();
                          beat();
                          lock.lock();
                      }
                  }) {}
            ~Heartbeats() { Stop(); }
            void Stop() {
                {
                    std::lock_guard lock(mu_);
                    done_ = true;
                }
                cv_.notify_all();
                if (thread_.joinable()) thread_.join();
            }

          private:
            std::mutex mu_;
            std::condition_variable cv_;
            bool done_ = false;
            std::thread thread_;
        };
        Heartbeats heartbeats(
            [&] {
                try {
                    v1::LeaseHeartbeatRequest hb;
                    hb.set_holder_id(agent_id);
                    hb.set_lease_id(lease_id);
                    if (client.Heartbeat(hb).action() == v1::LEASE_ACTION_STOP) lease_lost = true;
                } catch (const Error& e) {
                    if (e.code() == ErrorCode::kFailedPrecondition ||
                        e.code() == ErrorCode::kNotFound) {
                        lease_lost = true;
                    }
                    spdlog::warn("board {}: heartbeat failed: {}", board.id, e.what());
                }
            },
            interval);
        auto stop_heartbeats = [&] { heartbeats.Stop(); };
        auto fail = [&](const std::string& reason, bool retryable, bool board_fault,
                        bool infeasible) {
            if (lease_lost) return;
            v1::FailMeasurementRequest f;
            f.set_agent_id(agent_id);
            f.set_lease_id(lease_id);
            f.set_reason(TruncateUtf8(reason, 4000));
            f.set_retryable(retryable);
            f.set_board_fault(board_fault);
            f.set_infeasible(infeasible);
            try {
                client.FailMeasurement(f);
            } catch (const Error& e) {
                spdlog::warn("board {}: FailMeasurement failed: {}", board.id, e.what());
            }
        };

        MeasureRequest req;
        req.settings = task.settings();
        req.runtime_variant = options.runtime_variant;
        req.cancelled = [&] { return lease_lost.load(); };
        bool ok = false;
        try {
            const v1::Int8Model model =
                artifact::ParseArtifact(task.model().data(), "task.model.data");
            req.model = model;
            req.inputs =
                datasets.Inputs(task.dataset(), options.datasets,
                                std::max(1, task.settings().check_inputs()), &req.inputs_source);
        } catch (const Error& e) {
            stop_heartbeats();
            // A bad artifact or a job's dataset that cannot serve (too small a split)
            // fails the trial; a dataset missing on this host may exist on another.
            const bool model_fault =
                e.code() == ErrorCode::kInvalidArgument && e.field().rfind("task.model", 0) == 0;
            const bool retryable = e.code() != ErrorCode::kInvalidArgument;
            spdlog::warn("board {}: trial {} cannot be measured here: {}", board.id,
                         task.trial_id(), e.what());
            fail(
                std::string(model_fault ? "bad artifact: " : "agent " + agent_id + ": ") + e.what(),
                retryable, false, false);
            return false;
        }
        try {
            const MeasureResult r = measurer.Measure(req);
            const auto t = Clock::now();
            v1::CompleteMeasurementRequest done_req;
            done_req.set_agent_id(agent_id);
            done_req.set_lease_id(lease_id);
            *done_req.mutable_measurement() = r.measurement;
            if (options.upload_firmware) {
                v1::Artifact* elf = done_req.mutable_firmware();
                elf->set_kind(v1::ARTIFACT_FIRMWARE_ELF);
                elf->set_data(ReadBytes(r.elf_path));
            }
            stop_heartbeats();
            if (!lease_lost) {
                try {
                    client.CompleteMeasurement(done_req);
                    ok = true;
                } catch (const Error& e) {
                    spdlog::warn("board {}: CompleteMeasurement failed: {}", board.id, e.what());
                }
            }
            const double reporting = std::chrono::duration<double>(Clock::now() - t).count();
            spdlog::info(
                "board {}: trial {} {:.3f} ms ({}), SRAM {} B, flash {} B, energy {:.2f} uJ "
                "({}); codegen {:.2f} s, compile {:.2f} s{}, flash/boot {:.2f} s, inference "
                "{:.2f} s, reporting {:.2f} s",
                board.id, task.trial_id(), r.measurement.latency_ms(),
                v1::MetricSource_Name(r.measurement.source()), r.measurement.sram().total_bytes(),
                r.measurement.flash().total_bytes(), r.measurement.energy_uj(),
                v1::MetricSource_Name(r.measurement.energy_source()), r.time.codegen,
                r.time.compile, r.time.cache_hit ? " (cached)" : "", r.time.flash_boot,
                r.time.inference, reporting);
            *faults = 0;
        } catch (const MeasureError& e) {
            stop_heartbeats();
            spdlog::warn("board {}: trial {} failed ({}): {}", board.id, task.trial_id(),
                         FailureKindName(e.kind()), e.what());
            switch (e.kind()) {
                case FailureKind::kInfeasible:
                    fail(e.what(), false, false, true);
                    break;
                case FailureKind::kModel:
                    fail(e.what(), false, false, false);
                    break;
                case FailureKind::kAgent:
                    fail("agent " + agent_id + ": " + e.what(), true, false, false);
                    break;
                case FailureKind::kCancelled:
                    break;  // the lease is gone: nothing to report
                case FailureKind::kBoard: {
                    // Was it the board, or this model that hung it? The health check decides.
                    const HealthResult h = CheckHealth(measurer);
                    if (h.ok) {
                        spdlog::info("board {}: {} after the failure: the model is at fault",
                                     board.id, h.reason);
                        fail(std::string(e.what()) +
                                 " (the board passes its health check: "
                                 "the model, not the board, failed)",
                             true, false, false);
                    } else {
                        ++*faults;
                        fail(e.what(), true, true, false);
                        if (*faults >= options.health_failure_limit) {
                            ReportHealth(
                                board, v1::BOARD_HEALTH_BAD,
                                std::to_string(*faults) + " failures in a row; last: " + h.reason);
                        } else {
                            RunHealthCheck(board, measurer, faults, stop);
                        }
                    }
                    break;
                }
            }
        }
        return ok;
    }
};

Agent::Agent(Inventory inventory, FarmClient& client, AgentOptions options)
    : impl_(std::make_unique<Impl>(std::move(inventory), client, std::move(options))) {}

Agent::~Agent() = default;

int Agent::Run(const std::atomic<bool>& stop) {
    impl_->Register(stop);
    std::vector<std::thread> boards;
    for (const BoardConfig& b : impl_->inventory.boards) {
        boards.emplace_back([this, &b, &stop] {
            try {
                impl_->Serve(b, stop);
            } catch (const std::exception& e) {
                spdlog::error("board {}: stopped: {}", b.id, e.what());
            }
        });
    }
    for (auto& t : boards) t.join();
    return impl_->completed.load();
}

}  // namespace hilnas::agent
