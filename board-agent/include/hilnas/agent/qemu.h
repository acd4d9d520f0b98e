// An emulated STM32F405 (qemu-system-arm -M netduinoplus2) running a firmware
// ELF, its USART1 on a Unix socket we connect to. With -icount shift=N each
// instruction takes 2^N ns of virtual time, so SysTick counts are
// deterministic and proportional to instructions executed.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hilnas/agent/dut.h"

namespace hilnas {
class Process;
}

namespace hilnas::agent {

struct QemuOptions {
    std::string elf;
    std::string machine = "netduinoplus2";
    int icount_shift = 3;
    std::string qemu = "qemu-system-arm";
    std::chrono::milliseconds start_timeout{30000};
};

class QemuBoard : public SerialLink {
  public:
    // Starts QEMU and connects to its serial port. Throws Unavailable if QEMU
    // is missing or does not come up.
    explicit QemuBoard(QemuOptions options);
    ~QemuBoard() override;

    void Write(std::string_view bytes) override;
    bool Read(std::string& out, std::chrono::milliseconds timeout) override;

    // Instructions per SysTick tick at this shift: the harness's ticks count
    // virtual time at 168 MHz, and each instruction is 2^shift ns.
    double InstructionsPerTick() const;
    // "QEMU emulator version 7.2.x (...)" for provenance.
    static std::string Version(const std::string& qemu = "qemu-system-arm");

  private:
    void Boot();  // starts QEMU and connects to its serial socket
    QemuOptions options_;
    std::string dir_;
    std::unique_ptr<Process> process_;
    int fd_ = -1;
};

}  // namespace hilnas::agent
