#include "hilnas/agent/lpm01a.h"

#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "hilnas/agent/serial_port.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPrompt = "PowerShield >";
// How often the reader thread wakes up to see whether it should stop.
constexpr std::chrono::milliseconds kReadSlice{50};
// A line longer than this is not the monitor talking; drop it.
constexpr size_t kMaxLineBytes = 64 * 1024;

// Sampling rates of the monitor's "freq" at which ascii_dec energy output works.
struct Rate {
    const char* name;
    int hz;
};
constexpr Rate kRates[] = {{"10k", 10000}, {"5k", 5000}, {"2k", 2000}, {"1k", 1000}, {"500", 500},
                           {"200", 200},   {"100", 100}, {"50", 50},   {"20", 20},   {"10", 10},
                           {"5", 5},       {"2", 2},     {"1", 1}};

int RateHz(const std::string& freq) {
    std::string names;
    for (const auto& r : kRates) {
        if (freq == r.name) return r.hz;
        names += names.empty() ? "" : ", ";
        names += r.name;
    }
    throw InvalidArgument(
        "'" + freq + "' is not a rate the LPM01A streams energy at; one of " + names, "freq");
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "dddd[+-]dd" at `s`: the ascii_dec encoding of mantissa x 10^exponent.
bool IsSample(std::string_view s) {
    return s.size() >= 7 && IsDigit(s[0]) && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]) &&
           (s[4] == '+' || s[4] == '-') && IsDigit(s[5]) && IsDigit(s[6]);
}

double SampleValue(std::string_view s) {
    const int mantissa =
        (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    const int exponent = (s[5] - '0') * 10 + (s[6] - '0');
    return mantissa * std::pow(10.0, s[4] == '-' ? -exponent : exponent);
}

// "event <n> ris" or "event <n> fal": the DUT's timestamp pin changed.
bool IsEvent(std::string_view s) {
    if (!StartsWith(s, "event ")) return false;
    s.remove_prefix(6);
    size_t digits = 0;
    while (digits < s.size() && IsDigit(s[digits])) ++digits;
    if (digits == 0) return false;
    s.remove_prefix(digits);
    return s == " ris" || s == " fal";
}

// A reply line "ack <command> [output]" or "error <command> ...": true when
// it answers `command`, with what follows the command in `rest`. A monitor
// that echoes the arguments differently still names the verb.
bool IsReplyTo(std::string_view line, std::string_view kind, std::string_view command,
               std::string* rest) {
    if (!StartsWith(line, kind) || line.size() <= kind.size() || line[kind.size()] != ' ') {
        return false;
    }
    const std::string_view after = Trim(line.substr(kind.size() + 1));
    for (const std::string_view echo : {command, command.substr(0, command.find(' '))}) {
        if (after == echo || StartsWith(after, std::string(echo) + " ")) {
            *rest = std::string(Trim(after.substr(echo.size())));
            return true;
        }
    }
    return false;
}

std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : " | ") + l;
    return out;
}

}  // namespace

double EnergyBetweenEventsUj(const EnergyCapture& c) {
    if (c.events.size() < 2) {
        throw Unavailable("the capture has " + std::to_string(c.events.size()) +
                          " timestamp event(s); energy between events needs a first and a last "
                          "(is the DUT's timestamp pin wired to the monitor's D7?)");
    }
    const size_t first = std::min(c.events.front(), c.samples_j.size());
    const size_t last = std::min(c.events.back(), c.samples_j.size());
    double joules = 0;
    for (size_t i = first; i < last; ++i) joules += c.samples_j[i];
    return joules * 1e6;
}

double EnergyPerInferenceUj(const EnergyCapture& c, int inferences) {
    if (inferences < 1) {
        throw InvalidArgument("must be at least 1, got " + std::to_string(inferences),
                              "inferences");
    }
    return EnergyBetweenEventsUj(c) / inferences;
}

// The serial session: a reader thread sorts what the monitor sends into
// samples and events (while acquiring) and message lines, which commands wait
// on. The monitor streams for as long as an acquisition runs, so reading
// cannot wait for End(): the port's buffers would overflow.
class Lpm01a::Session {
  public:
    Session(Lpm01aOptions options, int rate_hz)
        : options_(std::move(options)), sample_period_s_(1.0 / rate_hz) {
        link_ = std::make_unique<SerialPort>(options_.port, options_.baud);
        reader_ = std::thread([this] { ReadLoop(); });
    }

    ~Session() {
        stopping_ = true;
        reader_.join();
    }

    // Sends `command` and waits for its ack; returns the output that follows
    // the echoed command on the ack line, or else the lines that came before it.
    std::string Command(const std::string& command) {
        std::unique_lock lock(mu_);
        ThrowIfReaderFailed(command);
        messages_.clear();  // chatter from before this command answers nothing
        lock.unlock();
        link_->Write(command + "\r\n");
        lock.lock();
        const auto deadline = Clock::now() + options_.command_timeout;
        std::vector<std::string> before;
        while (true) {
            while (!messages_.empty()) {
                std::string line = std::move(messages_.front());
                messages_.pop_front();
                std::string rest;
                if (IsReplyTo(line, "ack", command, &rest)) {
                    return rest.empty() ? Join(before) : rest;
                }
                if (IsReplyTo(line, "error", command, &rest)) {
                    throw Unavailable("lpm01a on " + options_.port + " refused '" + command +
                                      "': " + ErrorDetail(lock, deadline));
                }
                before.push_back(std::move(line));
            }
            ThrowIfReaderFailed(command);
            if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && messages_.empty()) {
                ThrowIfReaderFailed(command);
                throw Unavailable("lpm01a on " + options_.port + " did not answer '" + command +
                                  "' within " + std::to_string(options_.command_timeout.count()) +
                                  " ms" +
                                  (before.empty() ? "" : " (it said: " + Join(before) + ")"));
            }
        }
    }

    void Begin() {
        {
            std::lock_guard lock(mu_);
            if (capturing_) throw FailedPrecondition("an lpm01a capture is already running");
            capture_ = EnergyCapture{};
            capture_.sample_period_s = sample_period_s_;
            completed_ = false;
            acquiring_ = true;
            capturing_ = true;
        }
        try {
            Command("start");
        } catch (...) {
            std::lock_guard lock(mu_);
            acquiring_ = false;
            capturing_ = false;
            throw;
        }
    }

    EnergyCapture End() {
        std::unique_lock lock(mu_);
        if (!capturing_) throw FailedPrecondition("End() without Begin() on the lpm01a");
        capturing_ = false;
        lock.unlock();
        // The monitor does not ack stop; it ends the stream with "Acquisition completed".
        try {
            link_->Write("stop\r\n");
        } catch (...) {
            lock.lock();
            acquiring_ = false;
            throw;
        }
        lock.lock();
        const bool done = cv_.wait_until(lock, Clock::now() + options_.command_timeout,
                                         [this] { return completed_ || !reader_error_.empty(); });
        acquiring_ = false;
        if (!completed_) {
            if (!done) {
                throw Unavailable("lpm01a on " + options_.port +
                                  " did not report 'Acquisition completed' within " +
                                  std::to_string(options_.command_timeout.count()) +
                                  " ms of 'stop'");
            }
            ThrowIfReaderFailed("stop");
        }
        return std::move(capture_);
    }

    bool capturing() {
        std::lock_guard lock(mu_);
        return capturing_;
    }

    const std::string& port() const { return options_.port; }

    std::string version;
    std::string board_id;
    bool in_control = false;

  private:
    void ThrowIfReaderFailed(const std::string& command) const {
        if (!reader_error_.empty()) {
            throw Unavailable("lpm01a on " + options_.port + ": " + reader_error_ + " (at '" +
                              command + "')");
        }
    }

    // The "Error detail: <why>" line that follows an error reply.
    std::string ErrorDetail(std::unique_lock<std::mutex>& lock, Clock::time_point deadline) {
        while (true) {
            while (!messages_.empty()) {
                const std::string line = std::move(messages_.front());
                messages_.pop_front();
                if (StartsWith(line, "Error detail")) {
                    const size_t colon = line.find(':');
                    return colon == std::string::npos ? line
                                                      : std::string(Trim(line.substr(colon + 1)));
                }
            }
            if (!reader_error_.empty() ||
                cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
                return "no error detail given";
            }
        }
    }

    void ReadLoop() {
        std::string pending;
        while (!stopping_) {
            try {
                if (!link_->Read(pending, kReadSlice)) continue;
            } catch (const std::exception& e) {
                std::lock_guard lock(mu_);
                reader_error_ = e.what();
                cv_.notify_all();
                return;
            }
            std::lock_guard lock(mu_);
            size_t start = 0;
            for (size_t nl = pending.find('\n'); nl != std::string::npos;
                 nl = pending.find('\n', start)) {
                HandleLine(std::string_view(pending).substr(start, nl - start));
                start = nl + 1;
            }
            pending.erase(0, start);
            if (pending.size() > kMaxLineBytes) pending.clear();
            cv_.notify_all();
        }
    }

    // One line from the monitor; called with mu_ held.
    void HandleLine(std::string_view raw) {
        // NULs appear in the stream around status lines; \r ends every line.
        std::string clean;
        clean.reserve(raw.size());
        for (const char c : raw) {
            if (c != '\0' && c != '\r') clean += c;
        }
        std::string_view text = Trim(clean);
        while (StartsWith(text, kPrompt)) text = Trim(text.substr(kPrompt.size()));
        if (text.empty() || StartsWith(text, "TimeStamp")) return;
        if (IsEvent(text)) {
            if (acquiring_) capture_.events.push_back(capture_.samples_j.size());
            return;
        }
        if (IsSample(text)) {
            // Several samples may share a line; take every one, as the runner does.
            for (size_t i = 0; i + 7 <= text.size();) {
                if (IsSample(text.substr(i))) {
                    if (acquiring_) capture_.samples_j.push_back(SampleValue(text.substr(i)));
                    i += 7;
                } else {
                    ++i;
                }
            }
            return;
        }
        if (text.find("Acquisition completed") != std::string_view::npos) {
            completed_ = true;
            acquiring_ = false;
            return;
        }
        messages_.emplace_back(text);
    }

    const Lpm01aOptions options_;
    const double sample_period_s_;
    std::unique_ptr<SerialLink> link_;
    std::thread reader_;
    std::atomic<bool> stopping_{false};

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> messages_;  // lines that are neither data nor events
    EnergyCapture capture_;
    bool capturing_ = false;  // between Begin() and End()
    bool acquiring_ = false;  // samples and events go into capture_
    bool completed_ = false;  // "Acquisition completed" since Begin()
    std::string reader_error_;
};

Lpm01a::Lpm01a(Lpm01aOptions options) {
    const int rate_hz = RateHz(options.freq);
    if (!(options.supply_v >= 1.8 && options.supply_v <= 3.3)) {
        throw InvalidArgument(
            "the LPM01A supplies 1.8 to 3.3 V, not " + std::to_string(options.supply_v),
            "supply_v");
    }
    if (options.command_timeout.count() <= 0) {
        throw InvalidArgument("must be positive", "command_timeout");
    }
    const std::string millivolts = std::to_string(std::lround(options.supply_v * 1000)) + "m";
    const std::string freq = options.freq;
    session_ = std::make_unique<Session>(std::move(options), rate_hz);
    Session& s = *session_;
    try {
        s.Command("htc");
        s.in_control = true;
        const std::string id = s.Command("powershield");  // "PowerShield present <id>"
        s.board_id = StartsWith(id, "PowerShield present")
                         ? std::string(Trim(std::string_view(id).substr(19)))
                         : id;
        s.version = s.Command("version");
        const std::string status = s.Command("status");
        if (StartsWith(status, "error")) {
            throw Unavailable("lpm01a on " + s.port() + " reports " + status);
        }
        s.Command("lcd 1 \"hilnas\"");
        s.Command("pwr off");
        s.Command("acqtime inf");
        s.Command("trigdelay 0");
        s.Command("trigsrc sw");
        s.Command("eventsrc d7 fal");
        s.Command("output energy");
        s.Command("format ascii_dec");
        s.Command("freq " + freq);
        s.Command("volt " + millivolts);
        s.Command("pwr on nostatus");
    } catch (...) {
        if (s.in_control) {
            try {
                s.Command("hrc");
            } catch (...) {
                // The monitor is already failing; the first error is the one to report.
            }
        }
        throw;
    }
}

Lpm01a::~Lpm01a() {
    try {
        if (session_->capturing()) session_->End();
        if (session_->in_control) session_->Command("hrc");
    } catch (...) {
        // The monitor may be unplugged or hung; there is no one to tell.
    }
}

void Lpm01a::Begin() { session_->Begin(); }

EnergyCapture Lpm01a::End() { return session_->End(); }

std::string Lpm01a::Describe() const {
    return "lpm01a " + session_->version + " (id " + session_->board_id + ")";
}

const std::string& Lpm01a::version() const { return session_->version; }
const std::string& Lpm01a::board_id() const { return session_->board_id; }

}  // namespace hilnas::agent
