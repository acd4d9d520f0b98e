#include "hilnas/testing/controller.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "hilnas/store/pg_cluster.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas::testing {

namespace {

Process Start(const std::string& dsn, const std::string& dir, const std::string& address,
              const std::vector<std::string>& extra) {
    const std::string port_file = (std::filesystem::path(dir) / "port").string();
    std::filesystem::remove(port_file);
    ProcessOptions p;
    p.argv = {BuildPath("controller/hilnas-controller"),
              "--database",
              dsn,
              "--listen",
              address,
              "--port_file",
              port_file};
    p.argv.insert(p.argv.end(), extra.begin(), extra.end());
    Process process = Process::Start(p, (std::filesystem::path(dir) / "controller.log").string());
    for (int i = 0; i < 3000 && !std::ifstream(port_file).good() && process.Running(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return process;
}

}  // namespace

ControllerProcess::ControllerProcess(const std::string& dsn, const std::string& dir,
                                     const std::vector<std::string>& extra_args)
    : dsn_(dsn),
      dir_(dir),
      extra_args_(extra_args),
      address_("127.0.0.1:" + std::to_string(store::FreeLoopbackPort())),
      process_(Start(dsn, dir, address_, extra_args)) {}

void ControllerProcess::KillAndRestart() {
    ::kill(process_.pid(), SIGKILL);
    process_.WaitFor(std::chrono::seconds(30));
    process_ = Start(dsn_, dir_, address_, extra_args_);
}

std::string ControllerProcess::Log() const {
    return Slurp((std::filesystem::path(dir_) / "controller.log").string());
}

std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace hilnas::testing
