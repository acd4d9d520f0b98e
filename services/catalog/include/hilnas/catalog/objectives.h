// The objectives a job can minimise, owned once: each one's name (as the
// database, the views and the command line spell it), unit, direction,
// definition and where its value comes from before and after a board has
// measured it. The controller validates and scores with it, the store names
// rows with it, the command line labels columns with it, and a unit test holds
// the README's objective table to it.
// hilnas_objective_names() in sql/ lists the same names; a pg test pins them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "hilnas/v1/trial.pb.h"

namespace hilnas::catalog {

enum class Direction { kMinimise };  // every objective is minimised (error, not accuracy)

struct Objective {
    v1::Objective id;
    std::string_view name;        // "flash_bytes": database, views, CSV columns
    std::string_view unit;        // "bytes", "ms", "uJ", "MACs", "fraction"
    Direction direction;          // kMinimise
    bool needs_board;             // only a board (or the emulator) can give it
    std::string_view split;       // the data it is computed on; "" when none
    std::string_view source;      // before measurement -> after measurement
    std::string_view definition;  // one line, as the README's objective table says it
};

// Every objective, in proto order.
std::span<const Objective> Objectives();

// The entry of `id`; nullptr for OBJECTIVE_UNSPECIFIED or an unknown value.
const Objective* FindObjective(int id);
// The entry named `name`; nullptr for an unknown name.
const Objective* FindObjective(std::string_view name);

// The name of `id` ("" when unknown), and its upper-case display form
// ("FLASH_BYTES").
std::string_view ObjectiveName(int id);
std::string ObjectiveLabel(int id);

// A job's objective list, as both the controller (on submission) and the store
// (before it writes the row) require it: at least one and at most `most`, each
// known, none twice, none that needs a board when the job skips measurement.
// InvalidArgument on `field` or `field[i]`. A submitted job may search at most
// kMaxObjectives (the optimiser's hypervolume grows with each); the store
// holds any distinct set.
inline constexpr int kMaxObjectives = 5;
void CheckObjectives(std::span<const int> objectives, bool measurement_skipped,
                     int most = kMaxObjectives, const std::string& field = "spec.objectives");

}  // namespace hilnas::catalog
