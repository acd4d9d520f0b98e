// The board agent's side of the harness protocol: the lines a device under
// test prints on its serial port (m-ready, m-name-dut-[...], m-lap-us-N,
// e-[...], and the hilnas infer lines: m-hilnas-output-[hex] with its
// m-hilnas-checksum-[crc32], ticks, timer, arena, stack, lap). The input is
// the byte stream from the board:
//  - split into lines, it is one infer reply for agent::ParseInferReply;
//  - through an in-memory serial link, a DutClient reads it as a boot, then
//    the replies to name, timestamp and infer (each Unavailable once the
//    stream runs dry: the link never waits).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "hilnas/agent/dut.h"

using namespace hilnas;

namespace {

// Hands out the stream in small chunks, so lines arrive split as on a UART.
class StreamLink : public agent::SerialLink {
  public:
    explicit StreamLink(std::string_view bytes) : bytes_(bytes) {}
    void Write(std::string_view) override {}
    bool Read(std::string& out, std::chrono::milliseconds) override {
        if (bytes_.empty()) return false;
        const size_t n = std::min<size_t>(bytes_.size(), 13);
        out.append(bytes_.substr(0, n));
        bytes_.remove_prefix(n);
        return true;
    }

  private:
    std::string_view bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view stream = fuzz::AsText(data, size);

    agent::Reply reply;
    for (size_t start = 0; start < stream.size();) {
        const size_t nl = std::min(stream.find('\n', start), stream.size());
        std::string line(stream.substr(start, nl - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        reply.lines.push_back(std::move(line));
        start = nl + 1;
    }
    (void)reply.error();
    (void)reply.Value("m-hilnas-arena-");
    agent::Inference inf;
    if (fuzz::Accepts([&] { inf = agent::ParseInferReply(reply); })) {
        fuzz::Require(inf.lap_ticks.empty() || inf.lap_ticks.size() == inf.runs,
                      "an accepted reply has not one lap line per run");
    }

    StreamLink link(stream);
    agent::DutClient dut(link, std::chrono::milliseconds(1000));
    fuzz::Accepts([&] { dut.WaitForBoot(); });
    fuzz::Accepts([&] { (void)dut.Name(); });
    fuzz::Accepts([&] { (void)dut.Timestamp(); });
    fuzz::Accepts([&] { (void)dut.Infer(3, 1); });
    return 0;
}
