#include "hilnas/agent/board.h"

#include <optional>

#include "hilnas/agent/flasher.h"
#include "hilnas/agent/lpm01a.h"
#include "hilnas/agent/qemu.h"
#include "hilnas/agent/serial_port.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"

namespace hilnas::agent {

namespace {

class QemuConnection : public BoardConnection {
  public:
    explicit QemuConnection(const BoardConfig& board)
        : board_(board), type_(catalog::FindBoardType(board.type, "type")) {}

    SerialLink& Start(const std::string& elf) override {
        qemu_.reset();  // a board runs one firmware at a time
        QemuOptions o;
        o.elf = elf;
        o.machine = type_.qemu_machine;
        o.icount_shift = board_.icount_shift;
        o.qemu = board_.qemu;
        o.start_timeout = board_.boot_timeout;
        qemu_ = std::make_unique<QemuBoard>(o);
        return *qemu_;
    }
    void Recover() override { qemu_.reset(); }
    std::string debugger() const override { return "qemu"; }
    std::string DebuggerVersion() override {
        if (version_.empty()) version_ = QemuBoard::Version(board_.qemu);
        return version_;
    }

  private:
    BoardConfig board_;
    const catalog::BoardType& type_;
    std::unique_ptr<QemuBoard> qemu_;
    std::string version_;
};

// A real board: its probe flashes and resets it; its UART is a serial port,
// opened before flashing so the boot line is not lost.
class ProbeConnection : public BoardConnection {
  public:
    explicit ProbeConnection(const BoardConfig& board) : board_(board) {
        const catalog::BoardType& type = catalog::FindBoardType(board.type, "type");
        if (board.debugger == "openocd") {
            OpenOcdOptions o;
            o.openocd = board.openocd;
            o.probe_serial = board.probe_serial;
            o.interface_cfg = type.openocd_interface;
            o.target_cfg = type.openocd_target;
            o.timeout = board.flash_timeout;
            flasher_ = MakeOpenOcdFlasher(o);
        } else {
            PyOcdOptions o;
            o.pyocd = board.pyocd;
            o.uid = board.probe_serial;
            o.target = type.pyocd_target;
            o.timeout = board.flash_timeout;
            flasher_ = MakePyOcdFlasher(o);
        }
    }

    SerialLink& Start(const std::string& elf) override {
        port_.reset();
        port_ = std::make_unique<SerialPort>(board_.serial_port, board_.baud);
        flasher_->Flash(elf);
        return *port_;
    }
    void Recover() override {
        port_.reset();
        flasher_->Reset();
    }
    std::string debugger() const override { return flasher_->name(); }
    std::string DebuggerVersion() override {
        if (version_.empty()) version_ = flasher_->ToolVersion();
        return version_;
    }

  private:
    BoardConfig board_;
    std::unique_ptr<Flasher> flasher_;
    std::unique_ptr<SerialPort> port_;
    std::string version_;
};

}  // namespace

std::unique_ptr<BoardConnection> Connect(const BoardConfig& board) {
    if (board.debugger == "qemu") return std::make_unique<QemuConnection>(board);
    if (board.debugger == "openocd" || board.debugger == "pyocd") {
        return std::make_unique<ProbeConnection>(board);
    }
    throw InvalidArgument("unknown debugger '" + board.debugger + "'", "debugger");
}

std::unique_ptr<EnergyMeter> ConnectMeter(const BoardConfig& board) {
    if (board.meter.type != "lpm01a") return nullptr;
    Lpm01aOptions o;
    o.port = board.meter.port;
    o.baud = board.meter.baud;
    o.supply_v = catalog::FindBoardType(board.type, "type").supply_v;
    return std::make_unique<Lpm01a>(o);
}

}  // namespace hilnas::agent
