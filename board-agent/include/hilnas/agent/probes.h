// Which debug probes this host has: what `pyocd list` sees, and the known
// debug probes on USB (sysfs), merged by serial number. The serials are the
// ones OpenOCD's `adapter serial` and pyOCD's `-u` take, so an operator can
// copy one into a board's configuration.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hilnas::agent {

struct Probe {
    std::string serial;          // ST-LINK/V2's binary serial in the hex form the tools use
    std::string description;     // e.g. "STM32 STLink (STMicroelectronics NUCLEO-F446RE)"
    std::string source;          // "pyocd" (pyOCD lists it) | "usb" (only seen on USB)
    std::string vendor_product;  // e.g. "0483:374b"; empty when only pyOCD saw it
};

struct ProbeListOptions {
    std::string pyocd = "pyocd";
    std::string usb_sysfs = "/sys/bus/usb/devices";
    std::chrono::milliseconds timeout{std::chrono::seconds(20)};
};

// `pyocd list --probes` parsed, plus a scan of `usb_sysfs` for known debug
// probes: ST-LINK/V2, V2-1 and V3 (0483:3748, 374b, 374e, 374f, 3753, 3754),
// CMSIS-DAP/DAPLink (0d28:0204) and SEGGER J-Link (1366:*). A USB probe with
// the serial of a pyOCD one is that probe (pyOCD's entry gains the USB
// vendor:product); the others are listed as source "usb". Two probes with the
// same serial (cloned ST-LINKs) stay two entries: flashing by that serial is
// ambiguous. When pyOCD is missing, fails or times out, the USB scan alone is
// returned and a warning logged. Sorted by serial.
std::vector<Probe> ListProbes(const ProbeListOptions& options);

// The probes in `pyocd list` output (its table; colour codes allowed).
std::vector<Probe> ParsePyOcdList(const std::string& output);

// The known debug probes under a sysfs USB devices directory.
std::vector<Probe> ScanUsbProbes(const std::string& usb_sysfs);

}  // namespace hilnas::agent
