#include "hilnas/catalog/boards.h"

#include "hilnas/common/errors.h"
#include "hilnas/common/text.h"

namespace hilnas::catalog {

namespace {

std::vector<BoardType> MakeBoards() {
    std::vector<BoardType> b;
    // netduinoplus2 is an STM32F405RG; QEMU emulates no power, so estimates
    // use the real part's figures at its 168 MHz clock.
    {
        BoardType t;
        t.name = "qemu-netduinoplus2";
        t.mcu = "STM32F405RG";
        t.core = "cortex-m4f";
        t.cpu_hz = 168'000'000;
        t.flash_bytes = 1024 * 1024;
        t.sram_bytes = 128 * 1024;
        t.qemu_machine = "netduinoplus2";
        t.supply_v = 3.3;
        t.run_current_ma = 40;
        t.run_current_source =
            "STM32F405xx datasheet, typical IDD in Run mode at 168 MHz "
            "from Flash, peripherals disabled";
        b.push_back(std::move(t));
    }
    {
        BoardType t;
        t.name = "nucleo-f446re";
        t.mcu = "STM32F446RE";
        t.core = "cortex-m4f";
        t.cpu_hz = 180'000'000;
        t.flash_bytes = 512 * 1024;
        t.sram_bytes = 128 * 1024;
        t.openocd_interface = "interface/stlink.cfg";
        t.openocd_target = "target/stm32f4x.cfg";
        t.pyocd_target = "stm32f446retx";
        t.supply_v = 3.3;
        t.run_current_ma = 38;
        t.run_current_source =
            "STM32F446xx datasheet, typical IDD in Run mode at 180 MHz "
            "from Flash, peripherals disabled";
        t.timestamp_pin = "PA8 (Arduino D7)";
        b.push_back(std::move(t));
    }
    {
        BoardType t;
        t.name = "nucleo-f746zg";
        t.mcu = "STM32F746ZG";
        t.core = "cortex-m7";
        t.cpu_hz = 216'000'000;
        t.flash_bytes = 1024 * 1024;
        t.sram_bytes = 320 * 1024;
        t.openocd_interface = "interface/stlink.cfg";
        t.openocd_target = "target/stm32f7x.cfg";
        t.pyocd_target = "stm32f746zgtx";
        t.supply_v = 3.3;
        t.run_current_ma = 100;
        t.run_current_source =
            "STM32F746xx datasheet, typical IDD in Run mode at 216 MHz "
            "from Flash (ART and caches on), peripherals disabled";
        t.timestamp_pin = "PF13 (Arduino D7)";
        b.push_back(std::move(t));
    }
    {
        BoardType t;
        t.name = "nucleo-h743zi";
        t.mcu = "STM32H743ZI";
        t.core = "cortex-m7";
        t.cpu_hz = 480'000'000;
        t.flash_bytes = 2048 * 1024;
        t.sram_bytes = 512 * 1024;
        t.openocd_interface = "interface/stlink.cfg";
        t.openocd_target = "target/stm32h7x.cfg";
        t.pyocd_target = "stm32h743zitx";
        t.supply_v = 3.3;
        t.run_current_ma = 126;
        t.run_current_source =
            "STM32H743xI datasheet, typical IDD in Run mode at 480 MHz "
            "(VOS0) from Flash, caches on, peripherals disabled";
        t.timestamp_pin =
            "PG12 (Arduino D7 on the NUCLEO-H743ZI2; on the first NUCLEO-H743ZI, D7 is PF13: wire "
            "PG12)";
        b.push_back(std::move(t));
    }
    return b;
}

}  // namespace

const std::vector<BoardType>& BoardTypes() {
    static const std::vector<BoardType> boards = MakeBoards();
    return boards;
}

std::string BoardTypeNames() {
    std::string names;
    for (const auto& b : BoardTypes()) names += (names.empty() ? "" : ", ") + b.name;
    return names;
}

const BoardType& FindBoardType(const std::string& name, const std::string& field) {
    for (const auto& b : BoardTypes()) {
        if (b.name == name) return b;
    }
    throw InvalidArgument(
        "unknown board type '" + QuoteForMessage(name) + "' (" + BoardTypeNames() + ")", field);
}

double EstimatedEnergyUj(const BoardType& board, double latency_ms) {
    return board.run_power_mw() * latency_ms;
}

}  // namespace hilnas::catalog
