// What the whole-loop tests share: the real trainer and board agent as
// processes, a small Fashion-MNIST job for them, following a job to its end,
// and the check that a job's front (the RPC and the view) is the brute-force
// front over the rows PostgreSQL stored.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "hilnas/common/subprocess.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas::testing {

// hilnas-trainer working for the controller at `address`, as `worker_id`,
// its log appended to `log`.
Process StartTrainer(const std::string& address, const std::string& worker_id,
                     const std::string& log);

// hilnas-agent serving the controller at `address` as `agent_id`, with the
// firmware cache `cache_dir`, and the board inventory `inventory` ("": the
// default, one emulated STM32F405 named qemu-0); its log appended to `log`.
Process StartAgent(const std::string& address, const std::string& agent_id,
                   const std::string& cache_dir, const std::string& log,
                   const std::string& inventory = "");

// Test failures unless `p` exits with status 0 within 2 minutes of a SIGTERM;
// `logs` gives what to show when it does not.
void ExpectStopsCleanly(Process& p, const std::function<std::string()>& logs);

// The objectives of FarmJob, in the order of the spec and of the view's names.
const std::vector<v1::Objective>& FarmObjectives();

// A small Fashion-MNIST job for the emulated board: `trials` trials of one or
// two blocks trained one epoch on 1,500 images, 2 in parallel, measured with
// 3 timed runs; error, SRAM, latency and energy are its objectives.
v1::JobSpec FarmJob(const std::string& name, int trials);

// Polls the job until it completes or fails, or `guard` passes; returns its last state.
v1::Job FollowJob(v1::SearchService::Stub& stub, const std::string& job_id,
                  std::chrono::seconds guard);

// Test failures unless the job's front from GetParetoFront and from the
// v_pareto_front view both equal the brute-force front over its complete
// trials' stored objective rows. Returns the brute-force front's trial ids.
std::vector<std::string> ExpectFrontIsBruteForce(const std::string& dsn,
                                                 v1::SearchService::Stub& stub,
                                                 const std::string& job_id);

}  // namespace hilnas::testing
