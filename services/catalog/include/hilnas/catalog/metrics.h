// Names of the trial metrics that more than one process reads: the trainer
// writes them, the controller turns them into objectives, the command line
// and dashboards show them. One spelling, here.
#pragma once

namespace hilnas::catalog {

// Accuracy of the exported int8 model on the host runtime (bit-exact with the
// boards). The validation split (carved from the training set with a seeded
// split) is what the optimiser sees: error = 1 - int8_val_accuracy. The test
// split is reported, never optimised.
inline constexpr const char* kInt8ValAccuracy = "int8_val_accuracy";
inline constexpr const char* kInt8TestAccuracy = "int8_accuracy";

// The cost model's predictions of what a board agent measures (source computed).
inline constexpr const char* kPredictedSramBytes = "predicted_sram_bytes";
inline constexpr const char* kPredictedFlashBytes = "predicted_flash_bytes";

}  // namespace hilnas::catalog
