#include "hilnas/agent/dut.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

using Clock = std::chrono::steady_clock;

// "m-x-[a]-[b]" -> {"a", "b"} for the bracketed fields after `prefix`.
std::vector<std::string> Fields(const std::string& line, const std::string& prefix) {
    std::vector<std::string> out;
    size_t pos = prefix.size();
    while (pos < line.size() && line[pos] == '[') {
        const size_t end = line.find(']', pos);
        if (end == std::string::npos) break;
        out.push_back(line.substr(pos + 1, end - pos - 1));
        pos = end + 1;
        if (pos < line.size() && line[pos] == '-') ++pos;
    }
    return out;
}

// A whole field in `base` (10 or 16), or Unavailable: a partial parse, a sign
// or an overflow is a corrupted line, never a silently wrong figure.
uint64_t Number(const std::string& text, const std::string& what, int base = 10) {
    uint64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v, base);
    if (text.empty() || ec != std::errc() || ptr != end) {
        throw Unavailable("malformed " + what + ": '" + text.substr(0, 40) + "'");
    }
    return v;
}

// CRC-32 (IEEE 802.3, reflected), as the harness computes it over the output.
uint32_t Crc32(const std::vector<int8_t>& data) {
    uint32_t crc = 0xFFFFFFFFu;
    for (int8_t b : data) {
        crc ^= static_cast<uint8_t>(b);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

constexpr char kLapUs[] = "m-lap-us-";  // the reference's EE_MSG_TIMESTAMP, "m-lap-us-%lu"

}  // namespace

std::string Reply::error() const {
    for (const auto& l : lines) {
        if (l.rfind("e-[", 0) == 0) return l.substr(3, l.size() > 4 ? l.size() - 4 : 0);
    }
    return {};
}

std::string Reply::Value(const std::string& prefix) const {
    for (const auto& l : lines) {
        if (l.rfind(prefix + "[", 0) == 0) {
            const auto f = Fields(l, prefix);
            return f.empty() ? std::string() : f[0];
        }
    }
    return {};
}

DutClient::DutClient(SerialLink& link, std::chrono::milliseconds timeout)
    : link_(link), timeout_(timeout) {}

std::string DutClient::ReadLine() {
    const auto deadline = Clock::now() + timeout_;
    while (true) {
        const size_t nl = pending_.find('\n');
        if (nl != std::string::npos) {
            std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0 || !link_.Read(pending_, left)) {
            throw Unavailable("the device stopped answering (no line within " +
                              std::to_string(timeout_.count()) + " ms)");
        }
    }
}

void DutClient::WaitForBoot() {
    while (ReadLine() != "m-ready") {
    }
}

std::string DutClient::Name() {
    const Reply r = Command("name");
    if (!r.error().empty()) throw Unavailable("name failed: " + r.error());
    for (const auto& l : r.lines) {
        if (l.rfind("m-name-dut-[", 0) == 0) {
            const auto f = Fields(l, "m-name-dut-");
            if (f.size() == 1) return f[0];
        }
    }
    throw Unavailable("malformed name reply (no m-name-dut-[...] line)");
}

std::optional<uint64_t> DutClient::Timestamp() {
    const Reply r = Command("timestamp");
    if (!r.error().empty()) throw Unavailable("timestamp failed: " + r.error());
    for (const auto& l : r.lines) {
        if (l.rfind(kLapUs, 0) == 0) return Number(l.substr(sizeof(kLapUs) - 1), "m-lap-us");
    }
    return std::nullopt;
}

Reply DutClient::Command(const std::string& command) {
    link_.Write(command + "%");
    Reply reply;
    for (std::string line = ReadLine(); line != "m-ready"; line = ReadLine()) {
        reply.lines.push_back(line);
    }
    return reply;
}

void DutClient::LoadInput(std::span<const int8_t> input) {
    Reply r = Command("db load " + std::to_string(input.size()));
    if (!r.error().empty()) throw Unavailable("db load refused: " + r.error());
    static constexpr char kHex[] = "0123456789abcdef";
    constexpr size_t kChunk = 256;  // bytes per db line, 512 hex digits
    for (size_t i = 0; i < input.size(); i += kChunk) {
        std::string hex = "db ";
        for (size_t k = i; k < std::min(input.size(), i + kChunk); ++k) {
            const auto b = static_cast<uint8_t>(input[k]);
            hex += kHex[b >> 4];
            hex += kHex[b & 0xF];
        }
        r = Command(hex);
        if (!r.error().empty()) throw Unavailable("db refused: " + r.error());
    }
    bool done = false;
    for (const auto& l : r.lines) done = done || l == "m-load-done";
    if (!done) throw Unavailable("the device did not confirm the load (no m-load-done)");
}

Inference DutClient::Infer(int runs, int warmups) {
    return ParseInferReply(
        Command("infer " + std::to_string(runs) + " " + std::to_string(warmups)));
}

Inference ParseInferReply(const Reply& r) {
    if (!r.error().empty()) throw Unavailable("infer failed: " + r.error());
    Inference inf;
    bool ticks = false, output = false, checksum = false;
    std::vector<uint64_t> lap_us;
    for (const auto& l : r.lines) {
        if (l.rfind("m-hilnas-output-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-output-");
            if (f.size() != 1 || f[0].size() % 2 != 0) throw Unavailable("malformed output line");
            for (size_t i = 0; i < f[0].size(); i += 2) {
                inf.output.push_back(
                    static_cast<int8_t>(Number(f[0].substr(i, 2), "output byte", 16)));
            }
            output = true;
        } else if (l.rfind("m-hilnas-ticks-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-ticks-");
            if (f.size() != 4) throw Unavailable("malformed ticks line: " + l);
            inf.total_ticks = Number(f[0], "ticks");
            inf.runs = Number(f[1], "runs");
            inf.min_ticks = Number(f[2], "ticks");
            inf.max_ticks = Number(f[3], "ticks");
            ticks = true;
        } else if (l.rfind("m-hilnas-timer-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-timer-");
            if (f.size() != 3) throw Unavailable("malformed timer line: " + l);
            inf.timer_kind = f[0];
            inf.timer_hz = Number(f[1], "timer hz");
            inf.cpu_hz = Number(f[2], "cpu hz");
        } else if (l.rfind("m-hilnas-arena-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-arena-");
            if (f.size() != 1) throw Unavailable("malformed arena line: " + l);
            inf.arena_bytes = Number(f[0], "arena");
        } else if (l.rfind("m-hilnas-stack-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-stack-");
            if (f.size() != 2) throw Unavailable("malformed stack line: " + l);
            inf.stack_high_water_bytes = Number(f[0], "stack");
            inf.stack_size_bytes = Number(f[1], "stack size");
        } else if (l.rfind("m-hilnas-lap-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-lap-");
            if (f.size() != 1) throw Unavailable("malformed lap line: " + l);
            inf.lap_ticks.push_back(Number(f[0], "lap ticks"));
        } else if (l.rfind(kLapUs, 0) == 0) {
            lap_us.push_back(Number(l.substr(sizeof(kLapUs) - 1), "m-lap-us"));
        } else if (l.rfind("m-hilnas-checksum-", 0) == 0) {
            const auto f = Fields(l, "m-hilnas-checksum-");
            if (f.size() != 1) throw Unavailable("malformed checksum line: " + l);
            inf.checksum = static_cast<uint32_t>(Number(f[0], "checksum", 16));
            checksum = true;
        }
    }
    if (!ticks || !output) throw Unavailable("the infer reply lacks the hilnas lines");
    // A byte garbled on the serial line is the link's fault, not a wrong output.
    if (checksum && Crc32(inf.output) != inf.checksum) {
        throw Unavailable("the output's checksum does not match: the serial line garbled it");
    }
    if (!inf.lap_ticks.empty() && inf.lap_ticks.size() != inf.runs) {
        throw Unavailable("the infer reply has " + std::to_string(inf.lap_ticks.size()) +
                          " lap lines for " + std::to_string(inf.runs) + " runs");
    }
    if (lap_us.size() == 2) {
        inf.lap_us_start = lap_us[0];
        inf.lap_us_end = lap_us[1];
    } else if (!lap_us.empty()) {
        throw Unavailable("the infer reply has " + std::to_string(lap_us.size()) +
                          " m-lap-us lines, not 2");
    }
    return inf;
}

}  // namespace hilnas::agent
