#include "hilnas/agent/serial_port.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

using Clock = std::chrono::steady_clock;

// A write that makes no progress for this long means the device is wedged; a
// blocked write would otherwise hang the agent for good.
constexpr std::chrono::milliseconds kWriteStall{5000};

struct StandardRate {
    int baud;
    speed_t speed;
};

constexpr StandardRate kStandardRates[] = {
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

// Arbitrary rates go through the kernel's termios2 and BOTHER. glibc 2.36
// declares neither, and <asm/termbits.h> cannot be included beside
// <termios.h>, so the struct and the ioctl numbers are spelled out here for
// the generic ABI (x86, Arm, RISC-V); elsewhere only standard rates work.
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
                           defined(__arm__) || defined(__riscv))
#define HILNAS_SERIAL_TERMIOS2 1
struct KernelTermios2 {
    tcflag_t c_iflag;
    tcflag_t c_oflag;
    tcflag_t c_cflag;
    tcflag_t c_lflag;
    cc_t c_line;
    cc_t c_cc[19];
    speed_t c_ispeed;
    speed_t c_ospeed;
};
static_assert(sizeof(KernelTermios2) == 44, "struct termios2 of the generic Linux ABI");
constexpr unsigned long kTcGets2 = _IOR('T', 0x2A, KernelTermios2);
constexpr unsigned long kTcSets2 = _IOW('T', 0x2B, KernelTermios2);
constexpr tcflag_t kBother = 0010000;  // asm-generic/termbits.h
#endif

const StandardRate* FindStandardRate(int baud) {
    for (const auto& r : kStandardRates) {
        if (r.baud == baud) return &r;
    }
    return nullptr;
}

std::string SupportedRates() {
    std::string list;
    for (const auto& r : kStandardRates) {
        if (!list.empty()) list += ", ";
        list += std::to_string(r.baud);
    }
#ifdef HILNAS_SERIAL_TERMIOS2
    return "any rate from " + std::to_string(SerialPort::kMinBaud) + " to " +
           std::to_string(SerialPort::kMaxBaud) + " (standard: " + list + ")";
#else
    return list;
#endif
}

std::string Errno() { return std::strerror(errno); }

#ifdef HILNAS_SERIAL_TERMIOS2
// Sets a rate that has no Bxxx constant; the rest of the settings stay.
void SetArbitraryBaud(int fd, const std::string& path, int baud) {
    KernelTermios2 tio{};
    if (::ioctl(fd, kTcGets2, &tio) != 0) {
        throw Unavailable("cannot read the settings of serial port " + path + ": " + Errno());
    }
    tio.c_cflag &= ~(static_cast<tcflag_t>(CBAUD) | static_cast<tcflag_t>(CIBAUD));
    tio.c_cflag |= kBother;  // input speed follows the output speed (CIBAUD 0)
    tio.c_ispeed = static_cast<speed_t>(baud);
    tio.c_ospeed = static_cast<speed_t>(baud);
    if (::ioctl(fd, kTcSets2, &tio) != 0) {
        if (errno == EINVAL) {
            throw InvalidArgument(
                "the driver of " + path + " refuses " + std::to_string(baud) + " baud", "baud");
        }
        throw Unavailable("cannot set " + std::to_string(baud) + " baud on serial port " + path +
                          ": " + Errno());
    }
    // A driver may settle on the nearest rate its clock divides to; more than
    // 2% off and the frames no longer line up.
    KernelTermios2 got{};
    if (::ioctl(fd, kTcGets2, &got) != 0) {
        throw Unavailable("cannot read the settings of serial port " + path + ": " + Errno());
    }
    if (std::abs(static_cast<double>(got.c_ospeed) - baud) > 0.02 * baud) {
        throw InvalidArgument("the driver of " + path + " set " + std::to_string(got.c_ospeed) +
                                  " baud when asked for " + std::to_string(baud),
                              "baud");
    }
}
#endif

}  // namespace

SerialPort::SerialPort(const std::string& path, int baud) : path_(path), baud_(baud) {
    const StandardRate* standard = FindStandardRate(baud);
#ifdef HILNAS_SERIAL_TERMIOS2
    const bool supported = baud >= kMinBaud && baud <= kMaxBaud;
#else
    const bool supported = standard != nullptr;
#endif
    if (!supported) {
        throw InvalidArgument(
            std::to_string(baud) + " is not a supported rate; supported: " + SupportedRates(),
            "baud");
    }

    // O_NONBLOCK so that opening does not wait for carrier detect before
    // CLOCAL is set; it stays on, and Read and Write wait in poll().
    fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) throw Unavailable("cannot open serial port " + path + ": " + Errno());
    try {
        termios tio{};
        if (::tcgetattr(fd_, &tio) != 0) {
            if (errno == ENOTTY) {
                throw InvalidArgument(path + " is not a serial port", "path");
            }
            throw Unavailable("cannot read the settings of serial port " + path + ": " + Errno());
        }
        ::cfmakeraw(&tio);
        tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | CSTOPB | CRTSCTS);
        tio.c_cflag |= CS8 | CLOCAL | CREAD;
        tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
        tio.c_cc[VMIN] = 1;
        tio.c_cc[VTIME] = 0;
        if (standard != nullptr) {
            ::cfsetispeed(&tio, standard->speed);
            ::cfsetospeed(&tio, standard->speed);
        }
        if (::tcsetattr(fd_, TCSANOW, &tio) != 0) {
            throw Unavailable("cannot configure serial port " + path + ": " + Errno());
        }
        if (standard == nullptr) {
#ifdef HILNAS_SERIAL_TERMIOS2
            SetArbitraryBaud(fd_, path, baud);
#endif
        } else {
            // tcsetattr succeeds when any one change took; check the speed did.
            termios got{};
            if (::tcgetattr(fd_, &got) != 0 || ::cfgetospeed(&got) != standard->speed) {
                throw InvalidArgument(
                    "the driver of " + path + " refuses " + std::to_string(baud) + " baud", "baud");
            }
        }
        // Whatever the device sent before we were listening is stale.
        if (::tcflush(fd_, TCIFLUSH) != 0) {
            throw Unavailable("cannot flush serial port " + path + ": " + Errno());
        }
    } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
    }
}

SerialPort::~SerialPort() {
    if (fd_ >= 0) ::close(fd_);
}

void SerialPort::Write(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EIO) throw Unavailable("serial port " + path_ + " closed");
        if (n < 0 && errno != EAGAIN) {
            throw Unavailable("writing to serial port " + path_ + ": " + Errno());
        }
        // The output buffer is full: wait for the device to drain some of it.
        pollfd p{fd_, POLLOUT, 0};
        const int r = ::poll(&p, 1, static_cast<int>(kWriteStall.count()));
        if (r < 0 && errno != EINTR) {
            throw Unavailable("waiting on serial port " + path_ + ": " + Errno());
        }
        if (r == 0) {
            throw Unavailable("serial port " + path_ + " accepted no data for " +
                              std::to_string(kWriteStall.count()) + " ms");
        }
        if (r > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            throw Unavailable("serial port " + path_ + " closed");
        }
    }
}

bool SerialPort::Read(std::string& out, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
        if (r < 0) {
            if (errno == EINTR) continue;
            throw Unavailable("waiting on serial port " + path_ + ": " + Errno());
        }
        if (r == 0) return false;
        if ((p.revents & POLLIN) != 0) {
            char buf[4096];
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n > 0) {
                out.append(buf, static_cast<size_t>(n));
                return true;
            }
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            // 0 or EIO: the other end hung up (a pty's master closed, a USB
            // device unplugged).
            if (n == 0 || errno == EIO) throw Unavailable("serial port " + path_ + " closed");
            throw Unavailable("reading serial port " + path_ + ": " + Errno());
        }
        if ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
            throw Unavailable("serial port " + path_ + " closed");
        }
    }
}

}  // namespace hilnas::agent
