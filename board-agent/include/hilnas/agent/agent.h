// The board agent's service loop against FarmService: register the
// inventory's boards, then one loop per board: lease a measurement for it,
// measure with heartbeats, complete or fail it with a cause. A health check
// runs at start and after every board fault; a board that fails
// `health_failure_limit` times in a row is reported BAD and gets no more
// leases until `hilnas-agent check` passes. SIGTERM (the stop flag) lets the
// current measurement finish, then the loop returns.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "hilnas/agent/inventory.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/rpc/controller_client.h"
#include "hilnas/v1/farm_service.pb.h"

namespace hilnas::agent {

// FarmService as the agent sees it. Implementations throw hilnas errors:
// FailedPrecondition / NotFound when a lease is no longer held or a board is
// out of service, Unavailable / DeadlineExceeded for the world's failures.
class FarmClient {
  public:
    virtual ~FarmClient() = default;
    virtual v1::RegisterAgentResponse RegisterAgent(const v1::RegisterAgentRequest& r) = 0;
    virtual v1::LeaseMeasurementResponse LeaseMeasurement(const v1::LeaseMeasurementRequest& r) = 0;
    virtual v1::LeaseHeartbeatResponse Heartbeat(const v1::LeaseHeartbeatRequest& r) = 0;
    virtual v1::CompleteMeasurementResponse CompleteMeasurement(
        const v1::CompleteMeasurementRequest& r) = 0;
    virtual v1::FailMeasurementResponse FailMeasurement(const v1::FailMeasurementRequest& r) = 0;
    virtual void ReportBoardHealth(const v1::ReportBoardHealthRequest& r) = 0;
};

using FarmClientOptions = rpc::ControllerClientOptions;
// FarmClient over gRPC; every call has a deadline (LeaseMeasurement's adds its wait).
std::unique_ptr<FarmClient> MakeGrpcFarmClient(const FarmClientOptions& options);

struct AgentOptions {
    std::string agent_id;         // empty: the inventory's, else the host name
    std::string cache_dir;        // the firmware cache; empty: $XDG_CACHE_HOME/hilnas/firmware
    dataset::Locations datasets;  // where this host keeps its datasets
    std::string runtime_variant = "cortex_m";
    std::chrono::milliseconds lease_wait{10000};
    std::chrono::milliseconds retry_backoff{2000};
    int health_failure_limit = 3;  // failed checks in a row before a board is reported BAD
    bool upload_firmware = true;   // attach the ELF to CompleteMeasurement
    int max_measurements = 0;      // stop after this many completed (0: until stopped)
};

// The agent id to use: the option, the inventory's, or the host name.
std::string ResolveAgentId(const AgentOptions& options, const Inventory& inventory);
// The firmware cache directory to use.
std::string ResolveCacheDir(const AgentOptions& options);

class Agent {
  public:
    Agent(Inventory inventory, FarmClient& client, AgentOptions options);
    ~Agent();
    // Serves until `stop` is set (or max_measurements are done); returns the
    // number of measurements completed. Registration failures are retried.
    int Run(const std::atomic<bool>& stop);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hilnas::agent
