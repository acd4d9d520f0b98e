// Running child processes: to completion with a time-out and captured output
// (RunProcess), or in the background for servers and emulators (Process).
//
// Every child runs in a process group of its own, so a time-out or Stop()
// kills whatever it started too (a shell's children, QEMU's helpers). A child
// that cannot be executed (not found, not executable, unknown user) is an
// Unavailable error, never a silent exit code.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hilnas {

struct ProcessOptions {
    std::vector<std::string> argv;               // argv[0] is looked up in PATH
    std::map<std::string, std::string> env;      // set on top of this process's environment
    std::string cwd;                             // empty: this process's working directory
    std::string run_as_user;                     // drop to this user (needs root); empty: as we are
    std::chrono::milliseconds timeout{0};        // 0: no limit (RunProcess only)
    std::chrono::milliseconds kill_grace{2000};  // between SIGTERM and SIGKILL
    std::string stdin_data;                      // written to the child's stdin, then closed
    size_t max_output_bytes = 16u << 20;         // per stream; the rest is dropped
};

struct ProcessResult {
    int exit_code = -1;  // when the child exited
    int signal = 0;      // when a signal ended it
    bool timed_out = false;
    std::string out;
    std::string err;
    bool output_truncated = false;
    std::chrono::milliseconds elapsed{0};

    bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
    // "exited with status 2", "killed by signal 9", "timed out after 5000 ms".
    std::string Describe() const;
};

// Runs a child to completion, capturing stdout and stderr. On time-out the
// child's group gets SIGTERM, then SIGKILL after kill_grace; the result says
// timed_out. Anything the child left running in its group is killed when it exits.
ProcessResult RunProcess(const ProcessOptions& options);

// A child running in the background. Destroying a Process stops it.
class Process {
  public:
    // stdout and stderr are appended to `log_path` (empty: discarded).
    // ProcessOptions::timeout and stdin_data do not apply.
    static Process Start(const ProcessOptions& options, const std::string& log_path = {});

    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    // False once the child has exited (it is reaped here).
    bool Running();
    // Waits up to `timeout` for the child to exit; its wait status, or nullopt.
    std::optional<int> WaitFor(std::chrono::milliseconds timeout);
    // SIGTERM to the group, SIGKILL after `grace`, and reaps. Safe to call twice.
    void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
    // The wait status once the child has exited.
    std::optional<int> status() const { return status_; }

  private:
    Process() = default;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// The wait status in words: "exited with status 2", "killed by signal 9".
std::string DescribeWaitStatus(int status);

}  // namespace hilnas
