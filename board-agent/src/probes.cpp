#include "hilnas/agent/probes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "flash_tool.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"

namespace hilnas::agent {

namespace {

struct KnownProbe {
    const char* vendor;
    const char* product;  // nullptr: any product of the vendor
    const char* name;
};

// USB IDs of the debug probes we flash through (OpenOCD's and pyOCD's lists).
constexpr KnownProbe kKnownProbes[] = {
    {"0483", "3748", "ST-LINK/V2"},        {"0483", "374b", "ST-LINK/V2-1"},
    {"0483", "374e", "STLINK-V3"},         {"0483", "374f", "STLINK-V3"},
    {"0483", "3753", "STLINK-V3"},         {"0483", "3754", "STLINK-V3"},
    {"0d28", "0204", "CMSIS-DAP/DAPLink"}, {"1366", nullptr, "SEGGER J-Link"},
};

const KnownProbe* FindKnown(const std::string& vendor, const std::string& product) {
    for (const KnownProbe& known : kKnownProbes) {
        if (vendor == known.vendor && (known.product == nullptr || product == known.product)) {
            return &known;
        }
    }
    return nullptr;
}

std::string Trim(std::string_view text) {
    size_t begin = 0;
    size_t end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    return std::string(text.substr(begin, end - begin));
}

std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A sysfs attribute without its trailing newline; empty when absent.
std::string ReadAttribute(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// The code points of UTF-8 `text`; a byte that is not valid UTF-8 stands for itself.
std::vector<uint32_t> CodePoints(const std::string& text) {
    std::vector<uint32_t> points;
    for (size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        const size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xe ? 3 : 0;
        bool valid = length != 0 && i + length <= text.size();
        for (size_t k = 1; valid && k < length; ++k) {
            valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
        }
        if (!valid) {
            points.push_back(byte);
            ++i;
            continue;
        }
        uint32_t point = length == 1 ? byte : length == 2 ? (byte & 0x1fu) : (byte & 0x0fu);
        for (size_t k = 1; k < length; ++k) {
            point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
        }
        points.push_back(point);
        i += length;
    }
    return points;
}

// The serial OpenOCD and pyOCD take for a USB probe. ST-LINK/V2 firmware
// reports 12 raw bytes as its serial; the tools use their hex form
// (pyocd/probe/stlink/usb.py, OpenOCD's stlink alternate serial). The kernel
// turns each byte into a character and stops at the first zero byte, so
// missing bytes were zeros. J-Link serials are numbers the tools give
// without the leading zeros of the USB string.
std::string ToolSerial(const std::string& vendor, const std::string& usb_serial) {
    if (vendor == "0483") {
        const std::vector<uint32_t> points = CodePoints(usb_serial);
        if (!points.empty() && points.size() <= 12) {
            static constexpr char kHex[] = "0123456789ABCDEF";
            std::string hex;
            for (const uint32_t point : points) {
                hex += kHex[(point >> 4) & 0xf];
                hex += kHex[point & 0xf];
            }
            hex.resize(24, '0');
            return hex;
        }
    }
    if (vendor == "1366") {
        const size_t first = usb_serial.find_first_not_of('0');
        return first == std::string::npos ? usb_serial : usb_serial.substr(first);
    }
    return usb_serial;
}

// The cells of a table row: runs of two or more spaces separate them.
std::vector<std::string> Cells(const std::string& row) {
    std::vector<std::string> cells;
    size_t i = 0;
    while (i < row.size()) {
        while (i < row.size() && row[i] == ' ') ++i;
        if (i >= row.size()) break;
        size_t end = i;
        while (end < row.size() &&
               !(row[end] == ' ' && end + 1 < row.size() && row[end + 1] == ' ')) {
            ++end;
        }
        cells.push_back(Trim(std::string_view(row).substr(i, end - i)));
        i = end;
    }
    return cells;
}

bool IsNumber(const std::string& text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
    });
}

}  // namespace

std::vector<Probe> ParsePyOcdList(const std::string& output) {
    std::istringstream in(internal::StripAnsi(output));
    std::vector<Probe> probes;
    std::string line;
    bool in_table = false;
    bool after_probe = false;  // the previous row was a probe or its board row
    while (std::getline(in, line)) {
        const std::string trimmed = Trim(line);
        if (!in_table) {
            // The header's rule: "------...".
            in_table = trimmed.size() > 3 && trimmed.find_first_not_of('-') == std::string::npos;
            continue;
        }
        if (trimmed.empty()) {
            after_probe = false;
            continue;
        }
        const std::vector<std::string> cells = Cells(line);
        if (cells.size() >= 3 && IsNumber(cells[0])) {
            // "  0   STM32 STLink   066DFF555185754867243330   ✔︎ stm32f446retx"
            probes.push_back(Probe{cells[2], cells[1], "pyocd", ""});
            after_probe = true;
        } else if (after_probe && !probes.empty()) {
            // The board under a probe ("STMicroelectronics   NUCLEO-F446RE"),
            // or why pyOCD could not open it.
            std::string board;
            for (const std::string& cell : cells) board += (board.empty() ? "" : " ") + cell;
            probes.back().description += " (" + board + ")";
        }
    }
    return probes;
}

std::vector<Probe> ScanUsbProbes(const std::string& usb_sysfs) {
    std::vector<std::filesystem::path> devices;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(usb_sysfs, ec)) {
        devices.push_back(entry.path());
    }
    if (ec) {
        spdlog::warn("probe listing: cannot read {}: {}", usb_sysfs, ec.message());
        return {};
    }
    std::sort(devices.begin(), devices.end());
    std::vector<Probe> probes;
    for (const std::filesystem::path& device : devices) {
        // Interfaces ("1-1:1.0") have no idVendor of their own.
        const std::string vendor = Lower(Trim(ReadAttribute(device / "idVendor")));
        const std::string product = Lower(Trim(ReadAttribute(device / "idProduct")));
        const KnownProbe* known = FindKnown(vendor, product);
        if (known == nullptr) continue;
        const std::string description = Trim(Trim(ReadAttribute(device / "manufacturer")) + " " +
                                             Trim(ReadAttribute(device / "product")));
        probes.push_back(Probe{ToolSerial(vendor, ReadAttribute(device / "serial")),
                               description.empty() ? known->name : description, "usb",
                               vendor + ":" + product});
    }
    return probes;
}

std::vector<Probe> ListProbes(const ProbeListOptions& options) {
    std::vector<Probe> probes;
    ProcessOptions list;
    list.argv = {options.pyocd, "list", "--probes"};
    list.timeout = options.timeout;
    try {
        const ProcessResult result = RunProcess(list);
        if (result.ok()) {
            probes = ParsePyOcdList(result.out);
        } else {
            spdlog::warn("probe listing: `{} list --probes` {}: {}", options.pyocd,
                         result.Describe(), internal::OutputTail(result, 3));
        }
    } catch (const Unavailable& e) {
        spdlog::warn("probe listing without pyOCD: {}", e.what());
    }

    std::vector<bool> matched(probes.size(), false);
    std::vector<Probe> usb_only;
    for (Probe& usb : ScanUsbProbes(options.usb_sysfs)) {
        bool merged = false;
        for (size_t i = 0; i < probes.size() && !merged; ++i) {
            if (!matched[i] && !usb.serial.empty() &&
                Lower(probes[i].serial) == Lower(usb.serial)) {
                probes[i].vendor_product = usb.vendor_product;
                matched[i] = merged = true;
            }
        }
        if (!merged) usb_only.push_back(std::move(usb));
    }
    for (Probe& probe : usb_only) probes.push_back(std::move(probe));
    std::stable_sort(probes.begin(), probes.end(),
                     [](const Probe& a, const Probe& b) { return a.serial < b.serial; });
    return probes;
}

}  // namespace hilnas::agent
