// The compute device a trainer runs on. No LibTorch types in this header.
#pragma once

#include <string>

namespace hilnas::trainer {

struct DeviceInfo {
    std::string torch_version;
    bool cuda_available = false;
    int cuda_devices = 0;
    int cpu_threads = 0;
};

DeviceInfo ProbeDevice();

// "cpu", "cuda" or "auto" (CUDA when present). Throws InvalidArgument for
// anything else, and Unavailable for "cuda" on a machine without CUDA.
std::string ResolveDevice(const std::string& requested);

}  // namespace hilnas::trainer
