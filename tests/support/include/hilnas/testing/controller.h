#pragma once

#include <string>
#include <vector>

#include "hilnas/common/subprocess.h"

namespace hilnas::testing {

// A real hilnas-controller process on a free loopback port, on the database
// `dsn`, its log and port file in `dir`. Started by the constructor, which
// returns once the controller serves (or has given up after 30 s); stopped
// on destruction.
class ControllerProcess {
  public:
    ControllerProcess(const std::string& dsn, const std::string& dir,
                      const std::vector<std::string>& extra_args = {});
    const std::string& address() const { return address_; }
    std::string Log() const;  // what it wrote so far
    Process& process() { return process_; }
    // SIGKILL (no chance to tidy up), then the same controller again on the
    // same address and database; returns once it serves, like the constructor.
    void KillAndRestart();

  private:
    std::string dsn_;
    std::string dir_;
    std::vector<std::string> extra_args_;
    std::string address_;
    Process process_;
};

// The text of a file (a process's log), or "" when it cannot be read.
std::string Slurp(const std::string& path);

}  // namespace hilnas::testing
