// hilnas-lpm01a-sim: an X-NUCLEO-LPM01A ("PowerShield") power monitor on a
// pseudo-terminal, for tests of the agent's driver without the instrument.
//
// It prints the pty's slave path on the first line of stdout, then answers
// the monitor's command set the way the firmware does: every line starts with
// the prompt "PowerShield > ", a command is acknowledged with
// "ack <command> [output]" or refused with "error <command>" and a line
// "Error detail: <why>". After `start` it streams the energy of each sample
// period in ascii_dec ("dddd[+-]dd", mantissa x 10^exp joules) for a board
// that draws idle_ma for idle_ms, then active_ma for active_ms, then idle_ma
// until `stop`, which ends the stream with "Acquisition completed". The
// active window is bracketed by "event 1 ris" and "event 2 ris", as the DUT's
// timestamp pulses on D7 appear. Up to the end of the second idle span the
// stream goes out as fast as the reader takes it; after that at the sampling
// rate in wall-clock time. The energy is that of the supply set by `volt` (--volt
// until then), and nothing while the board's power is off.
//
//   hilnas-lpm01a-sim [--profile idle_ma:2,active_ma:40,active_ms:150,idle_ms:50]
//                     [--volt 3.3] [--log FILE] [--refuse VERB=DETAIL]...
//                     [--id ID] [--version X.Y.Z] [--chunk BYTES]
//
// --log appends every command line received, before it is answered.
// --refuse makes every command with that verb fail with that detail.
// --chunk writes the stream in writes of at most BYTES, splitting lines.
// Exits on SIGTERM or SIGINT, or when the slave side closes after a client
// has opened it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kPrompt = "PowerShield > ";

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Profile {
    double idle_ma = 2;
    double active_ma = 40;
    double active_ms = 150;
    double idle_ms = 50;
};

struct Options {
    Profile profile;
    double volt = 3.3;
    std::string log;
    std::map<std::string, std::string> refuse;  // verb -> detail
    std::string id = "0043001F-3131510A-39383838";
    std::string version = "1.0.4";
    size_t chunk = 0;
};

[[noreturn]] void Usage(const std::string& why) {
    std::cerr << "hilnas-lpm01a-sim: " << why
              << "\nusage: hilnas-lpm01a-sim [--profile idle_ma:A,active_ma:B,active_ms:C,"
                 "idle_ms:D] [--volt V] [--log FILE] [--refuse VERB=DETAIL]... [--id ID] "
                 "[--version X.Y.Z] [--chunk BYTES]\n";
    std::exit(2);
}

double Number(const std::string& text, const std::string& what) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0) {
        Usage("bad " + what + ": '" + text + "'");
    }
    return v;
}

Profile ParseProfile(const std::string& text) {
    Profile p;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t colon = item.find(':');
        if (colon == std::string::npos) Usage("profile item without ':': '" + item + "'");
        const std::string key = item.substr(0, colon);
        const double v = Number(item.substr(colon + 1), key);
        if (key == "idle_ma") {
            p.idle_ma = v;
        } else if (key == "active_ma") {
            p.active_ma = v;
        } else if (key == "active_ms") {
            p.active_ms = v;
        } else if (key == "idle_ms") {
            p.idle_ms = v;
        } else {
            Usage("unknown profile key '" + key + "'");
        }
    }
    return p;
}

Options ParseArgs(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) Usage(flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--profile") {
            o.profile = ParseProfile(value);
        } else if (flag == "--volt") {
            o.volt = Number(value, "--volt");
        } else if (flag == "--log") {
            o.log = value;
        } else if (flag == "--refuse") {
            const size_t eq = value.find('=');
            if (eq == std::string::npos) Usage("--refuse takes VERB=DETAIL");
            o.refuse[value.substr(0, eq)] = value.substr(eq + 1);
        } else if (flag == "--id") {
            o.id = value;
        } else if (flag == "--version") {
            o.version = value;
        } else if (flag == "--chunk") {
            o.chunk = static_cast<size_t>(Number(value, "--chunk"));
        } else {
            Usage("unknown flag " + flag);
        }
    }
    return o;
}

// "3300m", "3.3", "100u", "2-3", "5k": the monitor's numeric arguments.
std::optional<double> ParseQuantity(const std::string& text) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(v)) return std::nullopt;
    const std::string suffix = end;
    if (suffix.empty()) return v;
    if (suffix == "u") return v * 1e-6;
    if (suffix == "m") return v * 1e-3;
    if (suffix == "k") return v * 1e3;
    if ((suffix[0] == '-' || suffix[0] == '+') && suffix.size() <= 3 && suffix.size() >= 2 &&
        std::isdigit(static_cast<unsigned char>(suffix[1])) != 0 &&
        (suffix.size() == 2 || std::isdigit(static_cast<unsigned char>(suffix[2])) != 0)) {
        return v * std::pow(10.0, std::atoi(suffix.c_str()));
    }
    return std::nullopt;
}

// Energy in joules as ascii_dec: four digits of mantissa, a signed
// two-digit exponent ("6409-07" is 6409e-7).
std::string AsciiDec(double joules) {
    if (!(joules > 0)) return "0000+00";
    int exponent = static_cast<int>(std::floor(std::log10(joules))) - 3;
    long mantissa = std::lround(joules / std::pow(10.0, exponent));
    if (mantissa > 9999) {
        mantissa = std::lround(static_cast<double>(mantissa) / 10);
        ++exponent;
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04ld%c%02d", mantissa, exponent < 0 ? '-' : '+',
                  std::abs(exponent));
    return buf;
}

// Splits a command line on spaces; a double-quoted argument stays one token.
std::vector<std::string> Tokens(const std::string& line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ') {
            ++i;
            continue;
        }
        size_t end;
        if (line[i] == '"') {
            end = line.find('"', i + 1);
            end = end == std::string::npos ? line.size() : end + 1;
        } else {
            end = line.find(' ', i);
            if (end == std::string::npos) end = line.size();
        }
        out.push_back(line.substr(i, end - i));
        i = end;
    }
    return out;
}

class Monitor {
  public:
    Monitor(int fd, Options options) : fd_(fd), o_(std::move(options)), volt_(o_.volt) {
        if (!o_.log.empty()) log_.open(o_.log, std::ios::app);
    }

    // One command line from the host.
    void Handle(const std::string& line) {
        if (log_.is_open()) {
            log_ << line << "\n";
            log_.flush();
        }
        const std::vector<std::string> t = Tokens(line);
        if (t.empty()) {
            Send(kPrompt + std::string("\r\n"));
            return;
        }
        const std::string why = Run(line, t);
        if (!why.empty()) {
            Send(std::string(kPrompt) + "error " + line + "\r\n" + kPrompt +
                 "Error detail: " + why + "\r\n");
        }
    }

    bool acquiring() const { return acquiring_; }

    // The tail of an acquisition: the idle samples owed since it began, one
    // per sample period of wall-clock time.
    void Tick() {
        const double elapsed_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - tail_start_).count();
        const long owed = static_cast<long>(elapsed_s * freq_hz_) - tail_samples_;
        for (long i = 0; i < owed; ++i) Sample(o_.profile.idle_ma);
        tail_samples_ += std::max(0L, owed);
    }

  private:
    // Carries out a command; returns why it was refused, or "" once acked.
    std::string Run(const std::string& line, const std::vector<std::string>& t) {
        const std::string& verb = t[0];
        const size_t args = t.size() - 1;
        if (const auto r = o_.refuse.find(verb); r != o_.refuse.end()) return r->second;
        if (verb == "stop") {
            if (!acquiring_) return "No acquisition in progress";
            acquiring_ = false;
            Send(std::string(kPrompt) + "Acquisition completed\r\n");
            return "";
        }
        if (acquiring_ && verb != "pwr") return "Acquisition in progress";
        if (verb == "htc" && args == 0) {
            control_ = true;
            return Ack(line);
        }
        if (verb == "hrc" && args == 0) {
            control_ = false;
            return Ack(line);
        }
        if (verb == "powershield" && args == 0) return Ack(line, "PowerShield present " + o_.id);
        if (verb == "version" && args == 0) return Ack(line, o_.version);
        if (verb == "status" && args == 0) return Ack(line, "ok");
        if (verb == "echo") return Ack(line);
        static const char* const kKnown[] = {"lcd",     "pwr",    "acqtime", "trigdelay",
                                             "trigsrc", "output", "format",  "freq",
                                             "volt",    "start",  "eventsrc"};
        bool known = false;
        for (const char* k : kKnown) known = known || verb == k;
        if (!known) return "Command unknown";
        if (!control_) return "Host control required (send htc first)";

        if (verb == "lcd") {
            if (args != 2 || (t[1] != "1" && t[1] != "2")) return "Wrong argument";
            const std::string& text = t[2];
            if (text.size() < 2 || text.front() != '"' || text.back() != '"' ||
                text.size() - 2 > 16) {
                return "Wrong argument: string must be in double quotes, 16 characters max";
            }
            return Ack(line);
        }
        if (verb == "pwr") {
            if (args < 1 || args > 2) return "Wrong argument";
            if (args == 2 && t[2] != "status" && t[2] != "nostatus") return "Wrong argument";
            if (t[1] == "get" && args == 1) return Ack(line, powered_ ? "on" : "off");
            if (t[1] == "on" || t[1] == "auto") {
                powered_ = true;
            } else if (t[1] == "off") {
                powered_ = false;
            } else {
                return "Wrong argument";
            }
            return Ack(line);
        }
        if (verb == "acqtime") {
            if (args != 1) return "Wrong argument";
            if (t[1] == "inf" || t[1] == "0") return Ack(line);
            const auto v = ParseQuantity(t[1]);
            if (!v || *v < 100e-6 || *v > 100) return "Value out of range [100u; 100]";
            return Ack(line);
        }
        if (verb == "trigdelay") {
            const auto v = args == 1 ? ParseQuantity(t[1]) : std::nullopt;
            if (!v || *v < 0 || *v > 30) return "Value out of range [0; 30]";
            return Ack(line);
        }
        if (verb == "trigsrc") {
            if (args != 1 || (t[1] != "sw" && t[1] != "d7")) return "Wrong argument";
            return Ack(line);
        }
        if (verb == "eventsrc") {
            if (args != 2 || t[1] != "d7" || (t[2] != "ris" && t[2] != "fal")) {
                return "Wrong argument";
            }
            events_ = true;
            return Ack(line);
        }
        if (verb == "output") {
            if (args != 1 || (t[1] != "current" && t[1] != "energy")) return "Wrong argument";
            output_ = t[1];
            return Ack(line);
        }
        if (verb == "format") {
            if (args != 1 || (t[1] != "ascii_dec" && t[1] != "bin_hexa")) return "Wrong argument";
            format_ = t[1];
            return Ack(line);
        }
        if (verb == "freq") {
            static const char* const kRates[] = {"100k", "50k", "20k", "10k", "5k", "2k",
                                                 "1k",   "500", "200", "100", "50", "20",
                                                 "10",   "5",   "2",   "1"};
            bool ok = false;
            for (const char* r : kRates) ok = ok || (args == 1 && t[1] == r);
            if (!ok) return "Wrong argument";
            freq_hz_ = *ParseQuantity(t[1]);
            return Ack(line);
        }
        if (verb == "volt") {
            if (args == 1 && t[1] == "get") return Ack(line, AsciiDec(volt_));
            const auto v = args == 1 ? ParseQuantity(t[1]) : std::nullopt;
            if (!v || *v < 1.8 - 1e-9 || *v > 3.3 + 1e-9)
                return "Value out of range [1800m; 3300m]";
            volt_ = *v;
            return Ack(line);
        }
        // start
        if (args != 0) return "Wrong argument";
        if (output_ != "energy" || format_ != "ascii_dec") {
            return "Simulator streams only output energy in format ascii_dec";
        }
        if (freq_hz_ > 10e3) return "Sampling frequency too high for energy output (10k max)";
        Ack(line);
        StartStream();
        return "";
    }

    std::string Ack(const std::string& line, const std::string& output = {}) {
        Send(std::string(kPrompt) + "ack " + line + (output.empty() ? "" : " " + output) + "\r\n");
        return "";
    }

    // Everything up to the end of the second idle span, at once.
    void StartStream() {
        acquiring_ = true;
        samples_ = 0;
        nul_next_ = false;
        const Profile& p = o_.profile;
        const auto count = [this](double ms) { return std::lround(ms * 1e-3 * freq_hz_); };
        for (long i = 0; i < count(p.idle_ms); ++i) Sample(p.idle_ma);
        if (events_) Send("event 1 ris\r\n");
        for (long i = 0; i < count(p.active_ms); ++i) Sample(p.active_ma);
        if (events_) Send("event 2 ris\r\n");
        for (long i = 0; i < count(p.idle_ms); ++i) Sample(p.idle_ma);
        tail_start_ = std::chrono::steady_clock::now();
        tail_samples_ = 0;
    }

    void Sample(double milliamps) {
        const double joules = powered_ ? volt_ * milliamps * 1e-3 / freq_hz_ : 0.0;
        std::string out = nul_next_ ? std::string(1, '\0') : std::string();
        out += AsciiDec(joules) + "\r\n";
        nul_next_ = false;
        ++samples_;
        // A status line every 100 ms of acquisition; the firmware puts a NUL
        // before the sample that follows one.
        const long per_status = std::max(1L, std::lround(freq_hz_ / 10));
        if (samples_ % per_status == 0) {
            const long ms = std::lround(static_cast<double>(samples_) * 1e3 / freq_hz_);
            char buf[64];
            std::snprintf(buf, sizeof buf, "TimeStamp: %lds %03ldms, buff 00%%\r\n", ms / 1000,
                          ms % 1000);
            out += buf;
            nul_next_ = true;
        }
        Send(out);
    }

    void Send(const std::string& bytes) {
        size_t done = 0;
        while (done < bytes.size()) {
            size_t n = bytes.size() - done;
            if (o_.chunk > 0 && n > o_.chunk) n = o_.chunk;
            const ssize_t w = ::write(fd_, bytes.data() + done, n);
            if (w < 0 && errno == EINTR && !g_stop) continue;
            if (w <= 0) std::exit(0);  // the host hung up, or we were told to stop
            done += static_cast<size_t>(w);
        }
    }

    int fd_;
    Options o_;
    std::ofstream log_;
    bool control_ = false;
    bool powered_ = false;
    bool acquiring_ = false;
    bool events_ = false;
    bool nul_next_ = false;
    std::string output_ = "current";
    std::string format_ = "ascii_dec";
    double freq_hz_ = 100;
    double volt_;
    long samples_ = 0;
    std::chrono::steady_clock::time_point tail_start_;
    long tail_samples_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Options options = ParseArgs(argc, argv);

    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
        std::perror("hilnas-lpm01a-sim: pseudo-terminal");
        return 1;
    }
    const char* slave = ::ptsname(master);
    if (slave == nullptr) {
        std::perror("hilnas-lpm01a-sim: ptsname");
        return 1;
    }
    // Raw both ways until the host configures its side (it will, the same).
    termios tio{};
    if (::tcgetattr(master, &tio) == 0) {
        ::cfmakeraw(&tio);
        ::tcsetattr(master, TCSANOW, &tio);
    }

    struct sigaction sa {};
    sa.sa_handler = OnSignal;  // no SA_RESTART: a blocked write or poll returns
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    std::printf("%s\n", slave);
    std::fflush(stdout);

    Monitor monitor(master, std::move(options));
    std::string pending;
    bool connected = false;
    while (!g_stop) {
        pollfd p{master, POLLIN, 0};
        const int r = ::poll(&p, 1, monitor.acquiring() ? 1 : 100);
        if (r < 0) continue;  // EINTR: the loop checks g_stop
        if ((p.revents & POLLHUP) != 0 && (p.revents & POLLIN) == 0) {
            // No slave open: before the host connects, wait for it; after, it left.
            if (connected) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            continue;
        }
        connected = true;
        if (monitor.acquiring()) monitor.Tick();
        if (r == 0) continue;
        char buf[1024];
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            break;
        }
        pending.append(buf, static_cast<size_t>(n));
        for (size_t nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            monitor.Handle(line);
        }
    }
    return 0;
}
