// One validator per request message, each a list of declared checks: ids are
// present, at most kMaxId bytes and plain; names and free text have a declared
// maximum and no control characters (failure reasons may span lines); numbers
// that mean a quantity are finite and in range; enums hold a declared value;
// repeated fields have a maximum count. Longer input is refused, never cut.
// The binder (BoundService) calls Validate on every request after parsing it
// and before its handler, so a message without a validator does not compile.
// Each throws InvalidArgument naming the field ("metrics[2].value: must be finite").
#pragma once

#include <cstddef>
#include <string>

#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/search_service.pb.h"
#include "hilnas/v1/work_service.pb.h"

namespace hilnas::controller {

// The documented limits (README, "Security").
inline constexpr size_t kMaxId = 200;            // job, trial, lease, worker, agent, board ids
inline constexpr size_t kMaxName = 200;          // names, hostnames, versions, page tokens
inline constexpr size_t kMaxMetricName = 64;     // metric names, progress phases
inline constexpr size_t kMaxReason = 10000;      // failure reasons (may span lines)
inline constexpr size_t kMaxShortReason = 1000;  // cancel and board-health reasons
inline constexpr int kMaxRepeated = 256;         // metrics, boards, datasets per request

// An id: present, at most kMaxId bytes, no control characters.
void Require(const std::string& value, const std::string& field);
// Text of at most `max_bytes` and no control characters (`lines`: \n and \t allowed).
void CheckText(const std::string& value, const std::string& field, size_t max_bytes,
               bool lines = false);

void Validate(const v1::SubmitJobRequest&);
void Validate(const v1::GetJobRequest&);
void Validate(const v1::ListJobsRequest&);
void Validate(const v1::WatchJobRequest&);
void Validate(const v1::CancelJobRequest&);
void Validate(const v1::ListTrialsRequest&);
void Validate(const v1::GetTrialRequest&);
void Validate(const v1::GetParetoFrontRequest&);
void Validate(const v1::GetArtifactRequest&);
void Validate(const v1::ListBoardsRequest&);
void Validate(const v1::ListWorkersRequest&);

void Validate(const v1::LeaseTrialRequest&);
void Validate(const v1::LeaseHeartbeatRequest&);
void Validate(const v1::ReportProgressRequest&);
void Validate(const v1::CompleteTrialRequest&);
void Validate(const v1::FailTrialRequest&);
void Validate(const v1::FetchArtifactRequest&);

void Validate(const v1::RegisterAgentRequest&);
void Validate(const v1::LeaseMeasurementRequest&);
void Validate(const v1::CompleteMeasurementRequest&);
void Validate(const v1::FailMeasurementRequest&);
void Validate(const v1::ReportBoardHealthRequest&);

}  // namespace hilnas::controller
