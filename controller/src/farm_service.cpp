#include <set>

#include "hilnas/catalog/boards.h"
#include "hilnas/controller/objectives.h"
#include "services.h"

namespace hilnas::controller {

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
    Require(req.agent_id(), "agent_id");
    std::set<std::string> ids;
    for (int i = 0; i < req.boards_size(); ++i) {
        const v1::Board& b = req.boards(i);
        const std::string at = "boards[" + std::to_string(i) + "]";
        Require(b.board_id(), (at + ".board_id").c_str());
        Require(b.board_type(), (at + ".board_type").c_str());
        catalog::FindBoardType(b.board_type(), at + ".board_type");
        if (!ids.insert(b.board_id()).second) {
            throw InvalidArgument("duplicate board id '" + b.board_id() + "'", at + ".board_id");
        }
        if (b.debugger() == v1::DEBUGGER_UNSPECIFIED) {
            throw InvalidArgument("is required (openocd, pyocd or qemu)", at + ".debugger");
        }
    }
    deps_.store->RegisterAgent(req);
    SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
    SetDuration(deps_.options.lease, resp->mutable_lease_duration());
}

bool FarmServiceImpl::LeaseMeasurement(const Caller&, const v1::LeaseMeasurementRequest& req,
                                       v1::LeaseMeasurementResponse* resp) {
    Require(req.agent_id(), "agent_id");
    Require(req.board_id(), "board_id");
    auto lease = deps_.store->ClaimMeasurement(req.agent_id(), req.board_id(), deps_.options.lease);
    if (!lease) return false;
    *resp->mutable_lease() = std::move(lease->lease);
    *resp->mutable_task() = std::move(lease->task);
    SetDuration(deps_.options.heartbeat_interval, resp->mutable_heartbeat_interval());
    return true;
}

void FarmServiceImpl::Heartbeat(const Caller&, const v1::LeaseHeartbeatRequest& req,
                                v1::LeaseHeartbeatResponse* resp) {
    Require(req.holder_id(), "holder_id");
    Require(req.lease_id(), "lease_id");
    *resp = deps_.store->RenewLease(req.holder_id(), req.lease_id(), deps_.options.lease,
                                    store::LeaseKind::kMeasure);
}

void FarmServiceImpl::CompleteMeasurement(const Caller&, const v1::CompleteMeasurementRequest& req,
                                          v1::CompleteMeasurementResponse* resp) {
    Require(req.agent_id(), "agent_id");
    Require(req.lease_id(), "lease_id");
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
    Require(req.agent_id(), "agent_id");
    Require(req.lease_id(), "lease_id");
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
    Require(req.agent_id(), "agent_id");
    Require(req.board_id(), "board_id");
    if (req.health() == v1::BOARD_HEALTH_UNSPECIFIED || !v1::BoardHealth_IsValid(req.health())) {
        throw InvalidArgument("is required", "health");
    }
    deps_.store->ReportBoardHealth(req.agent_id(), req.board_id(), req.health(), req.reason());
}

}  // namespace hilnas::controller
