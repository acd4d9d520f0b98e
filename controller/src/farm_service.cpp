#include <set>

#include "hilnas/catalog/boards.h"
#include "hilnas/controller/objectives.h"
#include "services.h"

namespace hilnas::controller {

namespace {

store::AgentRegistration ToRegistration(const v1::RegisterAgentRequest& req) {
    store::AgentRegistration agent;
    agent.agent_id = req.agent_id();
    agent.hostname = req.hostname();
    agent.version = req.version();
    agent.boards.assign(req.boards().begin(), req.boards().end());
    return agent;
}

}  // namespace

FarmServiceImpl::FarmServiceImpl(ServiceDeps deps) : BoundService(std::move(deps), Role::kAgent) {
    BindUnary("RegisterAgent", &FarmServiceImpl::RegisterAgent);
    BindLongPoll("LeaseMeasurement", &FarmServiceImpl::LeaseMeasurement);
    BindUnary("Heartbeat", &FarmServiceImpl::Heartbeat);
    BindUnary("CompleteMeasurement", &FarmServiceImpl::CompleteMeasurement);
    BindUnary("FailMeasurement", &FarmServiceImpl::FailMeasurement);
    BindUnary("ReportBoardHealth", &FarmServiceImpl::ReportBoardHealth);
    CheckAllBound();
}

void FarmServiceImpl::RegisterAgent(const Caller&, const v1::RegisterAgentRequest& req,
                                    v1::RegisterAgentResponse* resp) {
    deps_.store->RegisterAgent(ToRegistration(req));
    SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
    SetDuration(deps_.options.lease, resp->mutable_lease_duration());
}

bool FarmServiceImpl::LeaseMeasurement(const Caller&, const v1::LeaseMeasurementRequest& req,
                                       v1::LeaseMeasurementResponse* resp) {
    auto lease = deps_.store->ClaimMeasurement(req.agent_id(), req.board_id(), deps_.options.lease);
    if (!lease) return false;
    *resp->mutable_lease() = std::move(lease->lease);
    *resp->mutable_task() = std::move(lease->task);
    SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
    return true;
}

void FarmServiceImpl::Heartbeat(const Caller&, const v1::LeaseHeartbeatRequest& req,
                                v1::LeaseHeartbeatResponse* resp) {
    SetHeartbeat(deps_.store->RenewLease(req.holder_id(), req.lease_id(), deps_.options.lease,
                                         store::LeaseKind::kMeasure),
                 resp);
}

void FarmServiceImpl::CompleteMeasurement(const Caller&, const v1::CompleteMeasurementRequest& req,
                                          v1::CompleteMeasurementResponse* resp) {
    store::MeasurementResult result;
    result.measurement = req.measurement();
    if (result.measurement.board_type().empty()) {
        // The agent's board, as it registered it.
        for (const v1::Board& b : deps_.store->ListBoards()) {
            if (b.board_id() == result.measurement.board_id()) {
                result.measurement.set_board_type(b.board_type());
            }
        }
    }
    result.objectives = MeasurementObjectives(result.measurement);
    if (req.has_firmware() && !req.firmware().data().empty()) {
        if (req.firmware().kind() != v1::ARTIFACT_FIRMWARE_ELF) {
            throw InvalidArgument("must be an ARTIFACT_FIRMWARE_ELF", "firmware.kind");
        }
        result.firmware = req.firmware();
    }
    result.infeasible_reason =
        BreachedLimit(deps_.store->JobOfLease(req.lease_id()).spec(), result.objectives);
    resp->set_state(deps_.store->CompleteMeasurement(req.agent_id(), req.lease_id(), result));
    deps_.wake_scheduler();
}

void FarmServiceImpl::FailMeasurement(const Caller&, const v1::FailMeasurementRequest& req,
                                      v1::FailMeasurementResponse* resp) {
    store::Failure f;
    f.reason = req.reason().empty() ? "no reason given" : req.reason();
    f.retryable = req.retryable();
    f.board_fault = req.board_fault();
    f.infeasible = req.infeasible();
    resp->set_state(deps_.store->FailMeasurement(req.agent_id(), req.lease_id(), f));
    deps_.wake_scheduler();
}

void FarmServiceImpl::ReportBoardHealth(const Caller&, const v1::ReportBoardHealthRequest& req,
                                        v1::ReportBoardHealthResponse*) {
    deps_.store->ReportBoardHealth(req.agent_id(), req.board_id(), req.health(), req.reason());
}

}  // namespace hilnas::controller
