// Built firmware, kept on disk and reused: one entry per (model digest, board
// type, kernels, energy mode, in-place and sparse-weight options, fault,
// toolchain, hilnas version), so a model measured again (a retry, a health
// check, another board of the same type) skips code generation and
// compilation.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "hilnas/firmware/build.h"

namespace hilnas::agent {

struct CachedFirmware {
    firmware::FirmwareBuild build;
    bool hit = false;
    double codegen_seconds = 0;  // 0 on a hit
    double compile_seconds = 0;  // 0 on a hit
};

class FirmwareCache {
  public:
    // `dir` is created if missing. Entries are directories under it.
    explicit FirmwareCache(std::string dir);

    // The firmware for `model` with `options` (options.out_dir is ignored: the
    // cache picks it). Builds on a miss; a failed build leaves no entry.
    // Processes sharing the directory take turns (a file lock). Throws as
    // firmware::BuildFirmware.
    CachedFirmware Get(const v1::Int8Model& model, firmware::BuildOptions options);

    const std::string& dir() const { return dir_; }
    int64_t hits() const { return hits_; }
    int64_t misses() const { return misses_; }

  private:
    std::string dir_;
    std::mutex mu_;  // one build at a time per cache; boards of one agent share it
    std::string toolchain_;
    std::string sources_;  // digest of the firmware sources, computed once
    int64_t hits_ = 0, misses_ = 0;
};

}  // namespace hilnas::agent
