#include "hilnas/agent/qemu.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"

namespace hilnas::agent {

namespace {
// netduinoplus2's SysTick runs on the 168 MHz core clock of virtual time.
constexpr double kSysTickHz = 168e6;
}  // namespace

QemuBoard::QemuBoard(QemuOptions options) : options_(std::move(options)) {
    if (!std::filesystem::exists(options_.elf)) throw InvalidArgument("no such file", options_.elf);
    std::string tmpl = (std::filesystem::temp_directory_path() / "hilnas-qemu-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw Unavailable("cannot create a temporary directory");
    dir_ = tmpl;
    try {
        Boot();
    } catch (...) {
        // No destructor runs for a constructor that throws: clean up here.
        if (fd_ >= 0) ::close(fd_);
        if (process_) process_->Stop(std::chrono::milliseconds(2000));
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
}

void QemuBoard::Boot() {
    const std::string sock = dir_ + "/serial.sock";
    ProcessOptions p;
    p.argv = {options_.qemu,    "-M",
              options_.machine, "-nographic",
              "-monitor",       "none",
              "-chardev",       "socket,id=uart,path=" + sock + ",server=on,wait=on",
              "-serial",        "chardev:uart",
              "-icount",        "shift=" + std::to_string(options_.icount_shift),
              "-kernel",        options_.elf};
    process_ = std::make_unique<Process>(Process::Start(p, dir_ + "/qemu.log"));

    // QEMU creates the socket, then waits for us before it starts the machine,
    // so nothing the firmware prints at boot is lost.
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
    while (true) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
        ::close(fd_);
        fd_ = -1;
        if (!process_->Running()) {
            std::ifstream log(dir_ + "/qemu.log");
            std::string first;
            std::getline(log, first);
            throw Unavailable(options_.qemu + " " +
                              DescribeWaitStatus(process_->status().value_or(0)) +
                              (first.empty() ? "" : ": " + first));
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw Unavailable("qemu-system-arm did not open its serial socket in time");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

QemuBoard::~QemuBoard() {
    if (fd_ >= 0) ::close(fd_);
    if (process_) process_->Stop(std::chrono::milliseconds(2000));
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

void QemuBoard::Write(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Unavailable(std::string("writing to the board: ") + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

bool QemuBoard::Read(std::string& out, std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) throw Unavailable("the emulated board closed its serial port (QEMU exited?)");
    out.append(buf, static_cast<size_t>(n));
    return true;
}

double QemuBoard::InstructionsPerTick() const {
    return 1e9 / (kSysTickHz * std::ldexp(1.0, options_.icount_shift));
}

std::string QemuBoard::Version(const std::string& qemu) {
    ProcessOptions p;
    p.argv = {qemu, "--version"};
    p.timeout = std::chrono::seconds(10);
    const ProcessResult r = RunProcess(p);
    return r.out.substr(0, r.out.find('\n'));
}

}  // namespace hilnas::agent
