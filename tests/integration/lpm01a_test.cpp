// The LPM01A driver against hilnas-lpm01a-sim, a PowerShield on a
// pseudo-terminal run as a real process: the setup sequence the MLPerf Tiny
// runner sends, energy between the DUT's timestamp events against the
// profile's analytic integral, and the ways a monitor fails.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "hilnas/agent/lpm01a.h"
#include "hilnas/agent/serial_port.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// hilnas-lpm01a-sim as a child process, logging the commands it receives.
class Simulator {
  public:
    explicit Simulator(const std::vector<std::string>& args = {}) {
        ProcessOptions p;
        p.argv = {testing::BuildPath("tests/hilnas-lpm01a-sim"), "--log", dir_ / "commands.log"};
        p.argv.insert(p.argv.end(), args.begin(), args.end());
        const std::string out = dir_ / "sim.out";
        process_.emplace(Process::Start(p, out));
        // Its first line of output is the pty's slave path.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (port_.empty()) {
            std::ifstream in(out);
            const std::string text((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
            if (const size_t nl = text.find('\n'); nl != std::string::npos) {
                port_ = text.substr(0, nl);
            } else if (!process_->Running() || std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("hilnas-lpm01a-sim did not start: " + text);
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
    }

    const std::string& port() const { return port_; }
    Process& process() { return *process_; }

    // Every command line it received, in order.
    std::vector<std::string> Commands() const {
        std::ifstream in(dir_ / "commands.log");
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        return lines;
    }

    agent::Lpm01aOptions Options() const {
        agent::Lpm01aOptions o;
        o.port = port_;
        return o;
    }

  private:
    testing::TempDir dir_;
    std::optional<Process> process_;
    std::string port_;
};

// 3.3 V x 40 mA x 150 ms between the events, in microjoules.
constexpr double kDefaultWindowUj = 3.3 * 40e-3 * 0.150 * 1e6;

TEST(Lpm01a, EnergyBetweenEventsMatchesTheProfileWithinOnePercent) {
    Simulator sim({"--profile", "idle_ma:2,active_ma:40,active_ms:150,idle_ms:50"});
    agent::Lpm01a meter(sim.Options());
    meter.Begin();
    const agent::EnergyCapture c = meter.End();

    EXPECT_DOUBLE_EQ(c.sample_period_s, 1e-3);
    // 50 idle samples, event 1, 150 active samples, event 2, idle after.
    EXPECT_THAT(c.events, ElementsAre(50u, 200u));
    EXPECT_GE(c.samples_j.size(), 250u);
    EXPECT_NEAR(agent::EnergyBetweenEventsUj(c), kDefaultWindowUj, 0.01 * kDefaultWindowUj);
    // Ten inferences in the window share it.
    EXPECT_NEAR(agent::EnergyPerInferenceUj(c, 10), kDefaultWindowUj / 10,
                0.01 * kDefaultWindowUj / 10);
    // The idle samples are the idle current's energy, not zero and not active.
    EXPECT_NEAR(c.samples_j.front(), 3.3 * 2e-3 * 1e-3, 0.01 * 3.3 * 2e-3 * 1e-3);
}

TEST(Lpm01a, SendsTheRunnersSetupThenStartStopAndReleasesControl) {
    Simulator sim;
    {
        agent::Lpm01a meter(sim.Options());
        meter.Begin();
        meter.End();
    }
    EXPECT_THAT(sim.Commands(),
                ElementsAre("htc", "powershield", "version", "status", "lcd 1 \"hilnas\"",
                            "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw",
                            "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k",
                            "volt 3300m", "pwr on nostatus", "start", "stop", "hrc"));
}

TEST(Lpm01a, ASupplyAndRateOfTheCallersChoiceScaleTheEnergy) {
    // --chunk 3 splits every line across reads.
    Simulator sim(
        {"--profile", "idle_ma:5,active_ma:12.5,active_ms:20,idle_ms:10", "--chunk", "3"});
    agent::Lpm01aOptions options = sim.Options();
    options.supply_v = 1.8;
    options.freq = "10k";
    agent::Lpm01a meter(options);
    meter.Begin();
    const agent::EnergyCapture c = meter.End();
    EXPECT_DOUBLE_EQ(c.sample_period_s, 1e-4);
    EXPECT_THAT(c.events, ElementsAre(100u, 300u));
    const double expected_uj = 1.8 * 12.5e-3 * 0.020 * 1e6;
    EXPECT_NEAR(agent::EnergyBetweenEventsUj(c), expected_uj, 0.01 * expected_uj);
    EXPECT_THAT(sim.Commands(), ::testing::Contains("volt 1800m"));
    EXPECT_THAT(sim.Commands(), ::testing::Contains("freq 10k"));
}

TEST(Lpm01a, CapturesAgainAfterACapture) {
    Simulator sim;
    agent::Lpm01a meter(sim.Options());
    for (int i = 0; i < 2; ++i) {
        meter.Begin();
        const agent::EnergyCapture c = meter.End();
        EXPECT_THAT(c.events, ElementsAre(50u, 200u)) << "capture " << i;
        EXPECT_NEAR(agent::EnergyBetweenEventsUj(c), kDefaultWindowUj, 0.01 * kDefaultWindowUj);
    }
}

TEST(Lpm01a, DescribesTheMonitorItTalksTo) {
    Simulator sim({"--id", "0029002A-3431510D-35323134", "--version", "1.0.9"});
    agent::Lpm01a meter(sim.Options());
    EXPECT_EQ(meter.version(), "1.0.9");
    EXPECT_EQ(meter.board_id(), "0029002A-3431510D-35323134");
    EXPECT_EQ(meter.Describe(), "lpm01a 1.0.9 (id 0029002A-3431510D-35323134)");
}

TEST(Lpm01a, ARefusedCommandIsUnavailableWithTheMonitorsDetail) {
    Simulator sim({"--refuse", "volt=Voltage level out of range"});
    try {
        agent::Lpm01a meter(sim.Options());
        FAIL() << "setup succeeded";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.message(), HasSubstr("'volt 3300m'"));
        EXPECT_THAT(e.message(), HasSubstr("Voltage level out of range"));
        EXPECT_THAT(e.message(), HasSubstr(sim.port()));
    }
    // It gave control back before giving up.
    ASSERT_FALSE(sim.Commands().empty());
    EXPECT_EQ(sim.Commands().back(), "hrc");
}

TEST(Lpm01a, TheSimulatorRefusesAnUnknownCommandAsTheFirmwareDoes) {
    Simulator sim;
    agent::SerialPort port(sim.port(), 3686400);
    port.Write("bogus 1\r\n");
    const std::string expected =
        "PowerShield > error bogus 1\r\nPowerShield > Error detail: Command unknown\r\n";
    std::string got;
    while (got.size() < expected.size() && port.Read(got, std::chrono::seconds(5))) {
    }
    EXPECT_EQ(got, expected);
}

TEST(Lpm01a, ASilentPortTimesOutNamingTheCommandAndPort) {
    // A terminal nobody answers on.
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(master, 0);
    ASSERT_EQ(::grantpt(master), 0);
    ASSERT_EQ(::unlockpt(master), 0);
    agent::Lpm01aOptions options;
    options.port = ::ptsname(master);
    options.command_timeout = std::chrono::milliseconds(200);
    try {
        agent::Lpm01a meter(options);
        ADD_FAILURE() << "a silent port answered";
    } catch (const Unavailable& e) {
        EXPECT_EQ(e.message(), "lpm01a on " + options.port + " did not answer 'htc' within 200 ms");
    }
    ::close(master);
}

TEST(Lpm01a, AMonitorThatGoesAwayMidCaptureIsUnavailable) {
    Simulator sim;
    agent::Lpm01a meter(sim.Options());
    meter.Begin();
    sim.process().Stop();
    try {
        meter.End();
        ADD_FAILURE() << "a capture ended without its monitor";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.message(), HasSubstr("serial port " + sim.port() + " closed"));
    }
}

TEST(Lpm01a, BeginAndEndMustAlternate) {
    Simulator sim;
    agent::Lpm01a meter(sim.Options());
    EXPECT_THROW(meter.End(), FailedPrecondition);
    meter.Begin();
    EXPECT_THROW(meter.Begin(), FailedPrecondition);
    meter.End();
    EXPECT_THROW(meter.End(), FailedPrecondition);
}

TEST(Lpm01a, BadOptionsAreInvalidArgumentsNamingTheField) {
    const auto field_of = [](agent::Lpm01aOptions o) {
        try {
            agent::Lpm01a meter(std::move(o));
        } catch (const InvalidArgument& e) {
            return e.field();
        }
        return std::string("accepted");
    };
    Simulator sim;
    agent::Lpm01aOptions o = sim.Options();
    o.freq = "3k";
    EXPECT_EQ(field_of(o), "freq");
    o = sim.Options();
    o.freq = "100k";  // the monitor samples that fast, but not energy in ascii_dec
    EXPECT_EQ(field_of(o), "freq");
    o = sim.Options();
    o.supply_v = 3.6;
    EXPECT_EQ(field_of(o), "supply_v");
    o = sim.Options();
    o.baud = 1200;
    EXPECT_EQ(field_of(o), "baud");
    o = sim.Options();
    o.command_timeout = std::chrono::milliseconds(0);
    EXPECT_EQ(field_of(o), "command_timeout");
    // None of them reached the monitor.
    EXPECT_THAT(sim.Commands(), ::testing::IsEmpty());
}

TEST(EnergyBetweenEvents, SumsTheSamplesFromTheFirstEventToTheLast) {
    agent::EnergyCapture c;
    c.samples_j = {1e-6, 2e-6, 3e-6, 4e-6, 5e-6};
    c.events = {1, 2, 4};  // a middle event changes nothing
    c.sample_period_s = 1e-3;
    EXPECT_NEAR(agent::EnergyBetweenEventsUj(c), 2 + 3 + 4, 1e-9);
    EXPECT_NEAR(agent::EnergyPerInferenceUj(c, 3), 3, 1e-9);
    EXPECT_THROW(agent::EnergyPerInferenceUj(c, 0), InvalidArgument);
}

TEST(EnergyBetweenEvents, FewerThanTwoEventsIsUnavailable) {
    agent::EnergyCapture c;
    c.samples_j = {1e-6, 2e-6};
    c.events = {1};
    try {
        agent::EnergyBetweenEventsUj(c);
        FAIL() << "energy from one event";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.message(), HasSubstr("1 timestamp event"));
        EXPECT_THAT(e.message(), HasSubstr("D7"));
    }
}

}  // namespace
}  // namespace hilnas
