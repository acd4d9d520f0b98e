// What the hilnas command's end-to-end tests share: running the command, and
// a small job completed through a real controller and PostgreSQL by in-test
// trainer and agent loops that speak the real WorkService and FarmService.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hilnas/common/subprocess.h"

namespace hilnas::testing {

// Runs the built hilnas command with `args`; `env` on top of ours.
ProcessResult Hilnas(const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(120),
                     const std::map<std::string, std::string>& env = {});

// Lines in `text` ('\n' counted).
int Lines(const std::string& text);

struct SmallJobOptions {
    int trials = 5;
    // ERROR, FLASH_BYTES, SRAM_BYTES and LATENCY_MS: enough for a scatter matrix.
    std::vector<int> objectives = {1, 2, 3, 4};
    std::string token;  // the user's; the worker and agent use the ones below
    std::string worker_token;
    std::string agent_token;
};

// Submits a job to the controller at `address`, trains every trial with a
// deterministic fake (real int8 artifacts with random weights) and measures
// it on a fake emulated board (qemu-netduinoplus2) until the job completes.
// Returns the job id; a test failure (and "") if it does not complete within
// a hang guard of three minutes.
std::string RunSmallJob(const std::string& address, const SmallJobOptions& options = {});

// The two halves of RunSmallJob: submit (the job id, or "" and a test
// failure), and work on the job until it completes (false, and a test
// failure, if it does not). Working rides out a controller restart.
std::string SubmitSmallJob(const std::string& address, const SmallJobOptions& options = {});
bool CompleteJob(const std::string& address, const std::string& job_id,
                 const SmallJobOptions& options = {});

}  // namespace hilnas::testing
