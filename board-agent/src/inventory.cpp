#include "hilnas/agent/inventory.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "hilnas/agent/serial_port.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

std::string Scalar(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) throw InvalidArgument("must be a single value", field);
    return node.as<std::string>();
}

int Int(const YAML::Node& node, const std::string& field, int min, int max) {
    const std::string text = Scalar(node, field);
    try {
        size_t used = 0;
        const long v = std::stol(text, &used);
        if (used == text.size() && v >= min && v <= max) return static_cast<int>(v);
    } catch (const std::exception&) {
    }
    throw InvalidArgument("must be an integer in [" + std::to_string(min) + ", " +
                              std::to_string(max) + "], not '" + text + "'",
                          field);
}

void CheckKeys(const YAML::Node& map, const std::set<std::string>& known,
               const std::string& field) {
    if (!map.IsMap()) throw InvalidArgument("must be a mapping", field);
    for (const auto& kv : map) {
        const std::string key = kv.first.as<std::string>();
        if (!known.contains(key)) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            throw InvalidArgument("unknown key (known: " + list + ")",
                                  (field.empty() ? "" : field + ".") + key);
        }
    }
}

BoardConfig ParseBoard(const YAML::Node& node, const std::string& at) {
    CheckKeys(node,
              {"id", "type", "debugger", "probe_serial", "serial_port", "baud", "meter",
               "icount_shift", "openocd", "pyocd", "qemu", "timeouts"},
              at);
    BoardConfig b;
    auto required = [&](const char* key) {
        if (!node[key]) throw InvalidArgument("is required", at + "." + key);
        const std::string v = Scalar(node[key], at + "." + key);
        if (v.empty()) throw InvalidArgument("must not be empty", at + "." + key);
        return v;
    };
    b.id = required("id");
    for (char c : b.id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
              c == '/')) {
            throw InvalidArgument("may hold only letters, digits and - _ . /", at + ".id");
        }
    }
    b.type = required("type");
    const catalog::BoardType& type = catalog::FindBoardType(b.type, at + ".type");
    b.debugger = required("debugger");
    if (b.debugger != "openocd" && b.debugger != "pyocd" && b.debugger != "qemu") {
        throw InvalidArgument("must be openocd, pyocd or qemu, not '" + b.debugger + "'",
                              at + ".debugger");
    }
    if (b.debugger == "qemu" && !type.emulated()) {
        throw InvalidArgument(
            "qemu emulates only " + std::string("qemu-* board types, not ") + b.type,
            at + ".debugger");
    }
    if (b.debugger != "qemu" && type.emulated()) {
        throw InvalidArgument(b.type + " is emulated: its debugger is qemu", at + ".debugger");
    }
    if (b.debugger == "openocd" && type.openocd_target.empty()) {
        throw InvalidArgument(b.type + " has no OpenOCD target in the catalogue", at + ".debugger");
    }
    if (b.debugger == "pyocd" && type.pyocd_target.empty()) {
        throw InvalidArgument(b.type + " has no pyOCD target in the catalogue", at + ".debugger");
    }
    if (node["probe_serial"]) b.probe_serial = Scalar(node["probe_serial"], at + ".probe_serial");
    if (node["serial_port"]) b.serial_port = Scalar(node["serial_port"], at + ".serial_port");
    if (b.debugger != "qemu") {
        if (b.probe_serial.empty()) {
            throw InvalidArgument("is required for debugger " + b.debugger +
                                      " (never the first probe found: `hilnas-agent probes` "
                                      "lists the attached ones)",
                                  at + ".probe_serial");
        }
        if (b.serial_port.empty()) {
            throw InvalidArgument("is required for a real board", at + ".serial_port");
        }
    } else if (!b.probe_serial.empty() || !b.serial_port.empty()) {
        throw InvalidArgument("an emulated board has no probe or serial port",
                              at + (b.probe_serial.empty() ? ".serial_port" : ".probe_serial"));
    }
    if (node["baud"]) {
        b.baud = Int(node["baud"], at + ".baud", SerialPort::kMinBaud, SerialPort::kMaxBaud);
    }
    if (node["icount_shift"]) {
        if (b.debugger != "qemu") {
            throw InvalidArgument("applies to qemu boards only", at + ".icount_shift");
        }
        b.icount_shift = Int(node["icount_shift"], at + ".icount_shift", 0, 10);
    }
    if (node["openocd"]) b.openocd = Scalar(node["openocd"], at + ".openocd");
    if (node["pyocd"]) b.pyocd = Scalar(node["pyocd"], at + ".pyocd");
    if (node["qemu"]) b.qemu = Scalar(node["qemu"], at + ".qemu");
    if (const YAML::Node m = node["meter"]; m && !m.IsNull()) {
        const std::string mat = at + ".meter";
        CheckKeys(m, {"type", "port", "baud"}, mat);
        if (!m["type"]) throw InvalidArgument("is required (lpm01a)", mat + ".type");
        b.meter.type = Scalar(m["type"], mat + ".type");
        if (b.meter.type != "lpm01a") {
            throw InvalidArgument("must be lpm01a, not '" + b.meter.type + "'", mat + ".type");
        }
        if (!m["port"]) throw InvalidArgument("is required", mat + ".port");
        b.meter.port = Scalar(m["port"], mat + ".port");
        if (m["baud"]) {
            b.meter.baud =
                Int(m["baud"], mat + ".baud", SerialPort::kMinBaud, SerialPort::kMaxBaud);
        }
        if (b.debugger == "qemu") {
            throw InvalidArgument("an emulated board draws no power to measure", mat);
        }
        if (type.timestamp_pin.empty()) {
            throw InvalidArgument(b.type + " has no energy-mode timestamp pin in the catalogue",
                                  mat);
        }
    }
    if (const YAML::Node t = node["timeouts"]; t && !t.IsNull()) {
        const std::string tat = at + ".timeouts";
        CheckKeys(t, {"flash", "boot", "command"}, tat);
        auto duration = [&](const char* key, std::chrono::milliseconds* out) {
            if (!t[key]) return;
            *out = ParseDuration(Scalar(t[key], tat + "." + key), tat + "." + key);
            if (out->count() <= 0) throw InvalidArgument("must be positive", tat + "." + key);
        };
        duration("flash", &b.flash_timeout);
        duration("boot", &b.boot_timeout);
        duration("command", &b.command_timeout);
    }
    return b;
}

}  // namespace

Inventory ParseInventory(const std::string& yaml_text) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw InvalidArgument(
            "not valid YAML: " + e.msg + " (line " + std::to_string(e.mark.line + 1) + ")",
            "inventory");
    }
    if (!root.IsMap()) throw InvalidArgument("must be a mapping with a boards list", "inventory");
    CheckKeys(root, {"agent_id", "boards"}, "");
    Inventory inv;
    if (root["agent_id"]) inv.agent_id = Scalar(root["agent_id"], "agent_id");
    const YAML::Node boards = root["boards"];
    if (!boards || !boards.IsSequence() || boards.size() == 0) {
        throw InvalidArgument("must list at least one board", "boards");
    }
    std::set<std::string> ids, probes, ports;
    for (size_t i = 0; i < boards.size(); ++i) {
        const std::string at = "boards[" + std::to_string(i) + "]";
        BoardConfig b = ParseBoard(boards[i], at);
        if (!ids.insert(b.id).second) {
            throw InvalidArgument("duplicate board id '" + b.id + "'", at + ".id");
        }
        if (!b.probe_serial.empty() && !probes.insert(b.probe_serial).second) {
            throw InvalidArgument("probe " + b.probe_serial + " is listed for two boards",
                                  at + ".probe_serial");
        }
        for (const std::string& port : {b.serial_port, b.meter.port}) {
            if (!port.empty() && !ports.insert(port).second) {
                throw InvalidArgument("port " + port + " is listed twice", at);
            }
        }
        inv.boards.push_back(std::move(b));
    }
    return inv;
}

Inventory LoadInventory(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw InvalidArgument(
            std::filesystem::exists(path) ? "cannot read " + path : "no such file: " + path,
            "inventory");
    }
    std::ostringstream text;
    text << in.rdbuf();
    try {
        return ParseInventory(text.str());
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(path + ": " + e.what(), "inventory");
    }
}

Inventory DefaultInventory() {
    Inventory inv;
    BoardConfig b;
    b.id = "qemu-0";
    b.type = std::string(catalog::kDefaultBoardType);
    b.debugger = "qemu";
    inv.boards.push_back(b);
    return inv;
}

v1::Board ToProto(const BoardConfig& b) {
    v1::Board p;
    p.set_board_id(b.id);
    p.set_board_type(b.type);
    p.set_probe_serial(b.probe_serial);
    p.set_debugger(b.debugger == "openocd" ? v1::DEBUGGER_OPENOCD
                   : b.debugger == "pyocd" ? v1::DEBUGGER_PYOCD
                                           : v1::DEBUGGER_QEMU);
    p.set_serial_port(b.serial_port);
    p.set_meter(b.meter.type == "lpm01a" ? v1::ENERGY_METER_LPM01A : v1::ENERGY_METER_NONE);
    p.set_meter_port(b.meter.port);
    p.set_health(v1::BOARD_HEALTH_UNKNOWN);
    return p;
}

}  // namespace hilnas::agent
