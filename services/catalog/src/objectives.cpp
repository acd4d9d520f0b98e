#include "hilnas/catalog/objectives.h"

#include "hilnas/catalog/jobs.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "hilnas/common/errors.h"

namespace hilnas::catalog {

namespace {

constexpr Direction kMin = Direction::kMinimise;

constexpr std::array<Objective, 7> kObjectives{{
    {v1::OBJECTIVE_ERROR, "error", "fraction", kMin, false, "validation",
     "evaluated (the host build of the firmware runtime, bit-exact with the board)",
     "1 - the int8 model's accuracy on the validation split, a seeded part of the training set; "
     "the test split's accuracy is stored as metric int8_accuracy, never given to the optimiser"},
    {v1::OBJECTIVE_FLASH_BYTES, "flash_bytes", "bytes", kMin, false, "",
     "computed (cost model) -> computed for the trained model -> measured / emulated",
     "the firmware ELF's .text + .rodata + .data"},
    {v1::OBJECTIVE_SRAM_BYTES, "sram_bytes", "bytes", kMin, false, "",
     "computed -> computed for the trained model -> measured / emulated",
     ".data + .bss (the activation arena included) + the stack high-water mark"},
    {v1::OBJECTIVE_LATENCY_MS, "latency_ms", "ms", kMin, true, "",
     "measured (cycle counter) / emulated (QEMU instruction count)",
     "median of the timed inferences on the board"},
    {v1::OBJECTIVE_ENERGY_UJ, "energy_uj", "uJ", kMin, true, "",
     "measured with a power meter, else estimated (datasheet P x latency)",
     "energy per inference between the harness's timestamps"},
    {v1::OBJECTIVE_MACS, "macs", "MACs", kMin, false, "", "computed, exact",
     "multiply-accumulates of one inference"},
    {v1::OBJECTIVE_MODEL_SIZE_BYTES, "model_size_bytes", "bytes", kMin, false, "",
     "computed from the sparsity -> counted exactly in the trained int8 artifact",
     "SpArSe's model size: non-zero weight bytes (4-bit: half a byte each) + 12 bytes per output "
     "channel"},
}};

}  // namespace

std::span<const Objective> Objectives() { return kObjectives; }

const Objective* FindObjective(int id) {
    for (const Objective& o : kObjectives) {
        if (o.id == id) return &o;
    }
    return nullptr;
}

const Objective* FindObjective(std::string_view name) {
    for (const Objective& o : kObjectives) {
        if (o.name == name) return &o;
    }
    return nullptr;
}

std::string_view ObjectiveName(int id) {
    const Objective* o = FindObjective(id);
    return o == nullptr ? std::string_view() : o->name;
}

std::string ObjectiveLabel(int id) {
    std::string label(ObjectiveName(id));
    for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return label;
}

void CheckObjectives(std::span<const int> objectives, bool measurement_skipped, int most,
                     const std::string& field) {
    if (objectives.empty()) throw InvalidArgument("at least one is required", field);
    if (objectives.size() > static_cast<size_t>(most)) {
        throw InvalidArgument("at most " + std::to_string(most) + " objectives", field);
    }
    for (size_t i = 0; i < objectives.size(); ++i) {
        const std::string at = field + "[" + std::to_string(i) + "]";
        const Objective* o = FindObjective(objectives[i]);
        if (o == nullptr) throw InvalidArgument("unspecified or unknown objective", at);
        if (std::find(objectives.begin(), objectives.begin() + static_cast<std::ptrdiff_t>(i),
                      objectives[i]) != objectives.begin() + static_cast<std::ptrdiff_t>(i)) {
            throw InvalidArgument("'" + std::string(o->name) + "' is listed twice", at);
        }
        if (o->needs_board && measurement_skipped) {
            throw InvalidArgument(
                "'" + std::string(o->name) +
                    "' needs board measurements, but spec.measurement.skip is set",
                at);
        }
    }
}

int ResolveMaxAttempts(int requested, const std::string& field) {
    if (requested < 0 || requested > kMaxMaxAttempts) {
        throw InvalidArgument("must be between 1 and " + std::to_string(kMaxMaxAttempts) +
                                  " (0 or unset: " + std::to_string(kDefaultMaxAttempts) + ")",
                              field);
    }
    return requested == 0 ? kDefaultMaxAttempts : requested;
}

}  // namespace hilnas::catalog
