// Talking to a device under test: the MLPerf Tiny protocol our harness
// speaks (firmware/harness/harness.c), over any byte stream to the board's
// serial port: a QEMU chardev socket, or a USB serial device.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace hilnas::agent {

// A bidirectional byte stream to a board's serial port.
class SerialLink {
  public:
    virtual ~SerialLink() = default;
    virtual void Write(std::string_view bytes) = 0;
    // Appends what arrives within `timeout` to `out`; false on time-out with nothing read.
    virtual bool Read(std::string& out, std::chrono::milliseconds timeout) = 0;
};

// The protocol's answer to one command: its lines, without "m-ready".
struct Reply {
    std::vector<std::string> lines;
    // The first "e-[...]" line's message, or empty.
    std::string error() const;
    // The value of the first line "<prefix>[...]", e.g. Value("m-hilnas-arena-").
    std::string Value(const std::string& prefix) const;
};

struct Inference {
    std::vector<int8_t> output;
    uint64_t total_ticks = 0;
    uint64_t runs = 0;
    uint64_t min_ticks = 0;
    uint64_t max_ticks = 0;
    std::string timer_kind;  // dwt-cyccnt | systick-icount
    uint64_t timer_hz = 0;
    uint64_t cpu_hz = 0;
    uint64_t arena_bytes = 0;
    uint64_t stack_high_water_bytes = 0;
    uint64_t stack_size_bytes = 0;
    uint32_t checksum = 0;
};

class DutClient {
  public:
    explicit DutClient(SerialLink& link,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // Waits for the boot's "m-ready". Throws Unavailable on time-out.
    void WaitForBoot();
    // Sends `command` + "%" and collects lines up to "m-ready". Throws
    // Unavailable on time-out (the device stopped answering).
    Reply Command(const std::string& command);
    // db load N, then the bytes as hex in chunks. Throws Unavailable on an e- line.
    void LoadInput(std::span<const int8_t> input);
    // infer N W, parsed. Throws Unavailable on an e- line or a malformed reply.
    Inference Infer(int runs, int warmups);

  private:
    std::string ReadLine();
    SerialLink& link_;
    std::chrono::milliseconds timeout_;
    std::string pending_;
};

}  // namespace hilnas::agent
