// A real serial port (a USB CDC device such as /dev/ttyACM0, a UART, a
// pseudo-terminal) through termios: raw 8N1, no flow control, at a given baud.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "hilnas/agent/dut.h"

namespace hilnas::agent {

class SerialPort : public SerialLink {
  public:
    // The rates SerialPort accepts, in baud. Rates between them that Linux has
    // no Bxxx constant for (3686400, the X-NUCLEO-LPM01A's) are set through
    // termios2/BOTHER.
    static constexpr int kMinBaud = 9600;
    static constexpr int kMaxBaud = 4000000;

    // Opens `path` in raw mode at `baud` and discards whatever input was
    // waiting. Throws InvalidArgument (field "baud") for a rate outside
    // [kMinBaud, kMaxBaud] or one the port's driver refuses, and Unavailable
    // (with the path and the system's reason) when the port cannot be opened
    // or configured.
    SerialPort(const std::string& path, int baud);
    ~SerialPort() override;
    SerialPort(const SerialPort&) = delete;
    SerialPort& operator=(const SerialPort&) = delete;

    // Writes all of `bytes`. Throws Unavailable when the port fails or is gone.
    void Write(std::string_view bytes) override;
    // Appends what arrives within `timeout` to `out`; false on time-out with
    // nothing read. Throws Unavailable("serial port X closed") on hang-up.
    bool Read(std::string& out, std::chrono::milliseconds timeout) override;

    const std::string& path() const { return path_; }
    int baud() const { return baud_; }

  private:
    std::string path_;
    int baud_;
    int fd_ = -1;
};

}  // namespace hilnas::agent
