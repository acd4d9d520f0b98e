// Talking to a device under test: the MLPerf Tiny protocol our harness
// speaks (firmware/harness/harness.c), over any byte stream to the board's
// serial port: a QEMU chardev socket, or a USB serial device.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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
    // Each timed run's ticks, in run order (their sum is total_ticks); empty
    // from energy-mode firmware, which prints nothing per run.
    std::vector<uint64_t> lap_ticks;
    // The two m-lap-us timestamps around the timed runs, in microseconds of the
    // harness clock; both 0 from energy-mode firmware (its timestamps are pin
    // edges for the energy monitor).
    uint64_t lap_us_start = 0, lap_us_end = 0;
    std::string timer_kind;  // dwt-cyccnt | systick-icount
    uint64_t timer_hz = 0;
    uint64_t cpu_hz = 0;
    uint64_t arena_bytes = 0;
    uint64_t stack_high_water_bytes = 0;
    uint64_t stack_size_bytes = 0;
    uint32_t checksum = 0;
};

// The reply to "infer N W", parsed: the m-hilnas-* lines, the output bytes
// checked against their CRC-32 line, one lap line per timed run (or none),
// two m-lap-us lines (or none). Throws Unavailable on an e- line or a
// malformed reply: a garbled serial line, never a silently wrong figure.
Inference ParseInferReply(const Reply& reply);

class DutClient {
  public:
    explicit DutClient(SerialLink& link,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // Waits for the boot's "m-ready". Throws Unavailable on time-out.
    void WaitForBoot();
    // name: the vendor string of the MLPerf Tiny reply "m-name-dut-[<vendor>]"
    // ("hilnas" for our harness). Throws Unavailable on any other reply.
    std::string Name();
    // timestamp: the device's m-lap-us time in microseconds, or nullopt from
    // energy-mode firmware (it pulses its timestamp pin and prints nothing).
    // Throws Unavailable on an e- line or a malformed reply.
    std::optional<uint64_t> Timestamp();
    // Sends `command` + "%" and collects lines up to "m-ready". Throws
    // Unavailable on time-out (the device stopped answering).
    Reply Command(const std::string& command);
    // db load N, then the bytes as hex in chunks. Throws Unavailable on an e- line.
    void LoadInput(std::span<const int8_t> input);
    // infer N W, parsed. Throws Unavailable on an e- line, a malformed reply
    // (including lap lines that are not one per run), or when the device stops
    // answering (a hung model).
    Inference Infer(int runs, int warmups);

  private:
    std::string ReadLine();
    SerialLink& link_;
    std::chrono::milliseconds timeout_;
    std::string pending_;
};

}  // namespace hilnas::agent
