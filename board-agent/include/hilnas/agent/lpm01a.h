// Energy measured by an X-NUCLEO-LPM01A ("PowerShield") power monitor over
// its serial port, the way the MLPerf Tiny energy runner drives it: the
// monitor supplies the board, streams the energy of each sample period in
// ascii_dec, and marks the DUT's timestamp pulses on D7 as "event N ris|fal"
// lines in the stream. Energy per inference is the energy between the first
// and the last event of a capture over the inferences run in that window.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace hilnas::agent {

struct Lpm01aOptions {
    std::string port;  // e.g. /dev/serial/by-id/usb-STMicroelectronics_PowerShield...
    int baud = 3686400;
    double supply_v = 3.3;  // what the monitor supplies the board, 1.8 to 3.3 V
    // Sampling rate as the monitor spells it: 10k, 5k, 2k, 1k, 500, 200, 100,
    // 50, 20, 10, 5, 2 or 1 (energy output in ascii_dec stops at 10 kHz).
    std::string freq = "1k";
    std::chrono::milliseconds command_timeout{5000};  // per command, and for stop
};

struct EnergyCapture {
    // Energy of each sample period in joules, in arrival order (the monitor
    // integrates over 1/freq and resets after each sample).
    std::vector<double> samples_j;
    // For each timestamp event, the number of samples that arrived before it.
    std::vector<size_t> events;
    double sample_period_s = 0;
};

// The energy of the samples between the first and the last event, in
// microjoules. Throws Unavailable if fewer than 2 events were seen.
double EnergyBetweenEventsUj(const EnergyCapture& c);
// EnergyBetweenEventsUj over the `inferences` the caller ran between the
// first and the last event. Throws InvalidArgument (field "inferences") for
// fewer than 1.
double EnergyPerInferenceUj(const EnergyCapture& c, int inferences);

class EnergyMeter {
  public:
    virtual ~EnergyMeter() = default;
    // Starts a capture.
    virtual void Begin() = 0;
    // Ends the capture and returns what it saw.
    virtual EnergyCapture End() = 0;
    // The instrument for provenance, e.g. "lpm01a 1.0.4 (id 0043001F-...)".
    virtual std::string Describe() const = 0;
};

class Lpm01a : public EnergyMeter {
  public:
    // Opens the port, takes control of the monitor (htc), reads its id,
    // version and status, configures energy output at options.freq and
    // options.supply_v with a software trigger and D7 events, and powers the
    // board. Throws InvalidArgument for bad options (field "freq",
    // "supply_v", "command_timeout" or "baud"), Unavailable when the port
    // cannot be opened, a command is refused (with the monitor's "Error
    // detail") or a command gets no reply within command_timeout.
    explicit Lpm01a(Lpm01aOptions options);
    // Stops a running capture and releases control of the monitor (hrc); the
    // board stays powered. Errors are swallowed: the monitor may be gone.
    ~Lpm01a() override;
    Lpm01a(const Lpm01a&) = delete;
    Lpm01a& operator=(const Lpm01a&) = delete;

    // Starts an acquisition (start). Throws FailedPrecondition if one is
    // running, Unavailable if the monitor refuses or does not answer.
    void Begin() override;
    // Stops it (stop, answered by "Acquisition completed") and returns every
    // sample and event that arrived since Begin(). Throws FailedPrecondition
    // without a Begin(), Unavailable if the monitor does not complete in
    // command_timeout or the port closed.
    EnergyCapture End() override;
    std::string Describe() const override;

    const std::string& version() const;   // firmware, e.g. "1.0.4"
    const std::string& board_id() const;  // the board's unique id

  private:
    class Session;
    std::unique_ptr<Session> session_;
};

}  // namespace hilnas::agent
