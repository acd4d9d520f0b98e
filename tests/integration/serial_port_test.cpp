// SerialPort on a pseudo-terminal: the test holds the master side, the port
// opens the slave as it would /dev/ttyACM0. Bytes cross unchanged both ways,
// time-outs return false, the termios settings land on the device, and the
// errors say what went wrong.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "hilnas/agent/serial_port.h"
#include "hilnas/common/errors.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;

// A pseudo-terminal pair; the test speaks on the master side.
class Pty {
  public:
    Pty() {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) {
            throw std::runtime_error("no pseudo-terminal");
        }
        slave_ = ::ptsname(master_);
    }
    ~Pty() { Close(); }
    void Close() {
        if (master_ >= 0) ::close(master_);
        master_ = -1;
    }
    const std::string& slave() const { return slave_; }
    void Write(const std::string& bytes) const {
        ASSERT_EQ(::write(master_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    }
    // Reads until `n` bytes arrived, or nothing more came for `quiet_ms`.
    std::string Read(size_t n, int quiet_ms = 1000) const {
        std::string out;
        while (out.size() < n) {
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, quiet_ms) <= 0) break;
            char buf[256];
            const ssize_t got = ::read(master_, buf, sizeof buf);
            if (got <= 0) break;
            out.append(buf, static_cast<size_t>(got));
        }
        return out;
    }

  private:
    int master_ = -1;
    std::string slave_;
};

// The slave's settings as another process would see them.
termios SettingsOf(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    termios tio{};
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::tcgetattr(fd, &tio), 0);
    ::close(fd);
    return tio;
}

// Reads what SerialPort reads until `n` bytes arrived.
std::string ReadFromPort(agent::SerialPort& port, size_t n) {
    std::string out;
    while (out.size() < n && port.Read(out, std::chrono::milliseconds(1000))) {
    }
    return out;
}

TEST(SerialPort, CarriesBytesUnchangedBothWays) {
    Pty pty;
    agent::SerialPort port(pty.slave(), 115200);
    // Raw mode: no CR/LF translation, no echo, every byte value passes.
    const std::string out = std::string("htc\r\nvolt 3300m\n\x03\x11\x13\xff", 20);
    port.Write(out);
    EXPECT_EQ(pty.Read(out.size()), out);
    const std::string in = std::string("PowerShield > ack htc\r\n\x00\x04\x1a", 26);
    pty.Write(in);
    EXPECT_EQ(ReadFromPort(port, in.size()), in);
    // Nothing was echoed back to the master.
    EXPECT_EQ(pty.Read(1, 50), "");
}

TEST(SerialPort, ReadTimesOutWithFalseAndLeavesTheBufferAlone) {
    Pty pty;
    agent::SerialPort port(pty.slave(), 921600);
    std::string out = "kept";
    EXPECT_FALSE(port.Read(out, std::chrono::milliseconds(30)));
    EXPECT_EQ(out, "kept");
    pty.Write("x");
    EXPECT_TRUE(port.Read(out, std::chrono::milliseconds(1000)));
    EXPECT_EQ(out, "keptx");
}

TEST(SerialPort, DiscardsInputThatWaitedBeforeItOpened) {
    Pty pty;
    // Something holds the slave open while the device talks into it.
    const int early = ::open(pty.slave().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(early, 0);
    termios raw{};
    ASSERT_EQ(::tcgetattr(early, &raw), 0);
    ::cfmakeraw(&raw);
    ASSERT_EQ(::tcsetattr(early, TCSANOW, &raw), 0);
    pty.Write("stale bytes\r\n");
    int queued = 0;
    for (int i = 0; i < 100 && queued == 0; ++i) {
        ASSERT_EQ(::ioctl(early, FIONREAD, &queued), 0);
        if (queued == 0) ::usleep(1000);
    }
    ASSERT_GT(queued, 0);

    agent::SerialPort port(pty.slave(), 115200);
    std::string out;
    EXPECT_FALSE(port.Read(out, std::chrono::milliseconds(30)));
    pty.Write("fresh");
    EXPECT_EQ(ReadFromPort(port, 5), "fresh");
    ::close(early);
}

TEST(SerialPort, AppliesRawEightNOneAtTheStandardRate) {
    Pty pty;
    for (const auto& [baud, speed] : {std::pair{9600, B9600}, std::pair{115200, B115200},
                                      std::pair{921600, B921600}, std::pair{4000000, B4000000}}) {
        agent::SerialPort port(pty.slave(), baud);
        const termios tio = SettingsOf(pty.slave());
        EXPECT_EQ(::cfgetospeed(&tio), speed) << baud;
        EXPECT_EQ(::cfgetispeed(&tio), speed) << baud;
        EXPECT_EQ(tio.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
        EXPECT_EQ(tio.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0u);
        EXPECT_EQ(tio.c_cflag & (CLOCAL | CREAD), static_cast<tcflag_t>(CLOCAL | CREAD));
        EXPECT_EQ(tio.c_lflag & (ICANON | ECHO | ISIG), 0u);
        EXPECT_EQ(tio.c_iflag & (IXON | IXOFF | ICRNL), 0u);
        EXPECT_EQ(tio.c_oflag & OPOST, 0u);
    }
}

// The kernel's struct termios2 (generic ABI), to read back a rate that has
// no Bxxx constant; <asm/termbits.h> cannot be included beside <termios.h>.
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

TEST(SerialPort, SetsTheLpm01aRateThroughTermios2) {
    Pty pty;
    agent::SerialPort port(pty.slave(), 3686400);
    const int fd = ::open(pty.slave().c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    KernelTermios2 tio{};
    ASSERT_EQ(::ioctl(fd, _IOR('T', 0x2A, KernelTermios2), &tio), 0);
    ::close(fd);
    EXPECT_EQ(tio.c_ospeed, 3686400u);
    EXPECT_EQ(tio.c_cflag & CBAUD, 0010000u);  // BOTHER
    EXPECT_EQ(tio.c_lflag & (ICANON | ECHO), 0u);
    // And it still carries bytes.
    port.Write("version\r\n");
    EXPECT_EQ(pty.Read(9), "version\r\n");
}

TEST(SerialPort, RefusesRatesOutsideTheRangeNamingBaud) {
    Pty pty;
    for (const int baud : {0, 1200, 4000001, -9600}) {
        try {
            agent::SerialPort port(pty.slave(), baud);
            ADD_FAILURE() << baud << " accepted";
        } catch (const InvalidArgument& e) {
            EXPECT_EQ(e.field(), "baud");
            EXPECT_THAT(e.message(), HasSubstr(std::to_string(baud)));
            EXPECT_THAT(e.message(), HasSubstr("115200"));
        }
    }
}

TEST(SerialPort, AMissingPortIsUnavailableWithThePathAndReason) {
    try {
        agent::SerialPort port("/dev/hilnas-no-such-tty", 115200);
        FAIL() << "opened a missing port";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.message(), HasSubstr("/dev/hilnas-no-such-tty"));
        EXPECT_THAT(e.message(), HasSubstr("No such file or directory"));
    }
}

TEST(SerialPort, AFileThatIsNotATerminalIsInvalid) {
    testing::TempDir dir;
    const std::string file = dir.Write("not-a-tty", "");
    try {
        agent::SerialPort port(file, 115200);
        FAIL() << "opened a regular file";
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "path");
        EXPECT_THAT(e.message(), HasSubstr(file));
    }
}

TEST(SerialPort, AHangUpIsUnavailableNamingThePort) {
    Pty pty;
    agent::SerialPort port(pty.slave(), 115200);
    pty.Write("last words");
    EXPECT_EQ(ReadFromPort(port, 10), "last words");
    pty.Close();
    std::string out;
    try {
        port.Read(out, std::chrono::milliseconds(1000));
        FAIL() << "read past a hang-up";
    } catch (const Unavailable& e) {
        EXPECT_EQ(e.message(), "serial port " + pty.slave() + " closed");
    }
    EXPECT_THROW(port.Write("stop\r\n"), Unavailable);
}

}  // namespace
}  // namespace hilnas
