#include "device.h"

#include <torch/torch.h>
#include <torch/version.h>

#include "hilnas/common/errors.h"

namespace hilnas::trainer {

DeviceInfo ProbeDevice() {
    DeviceInfo info;
    info.torch_version = TORCH_VERSION;
    info.cuda_available = torch::cuda::is_available();
    info.cuda_devices = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
    info.cpu_threads = torch::get_num_threads();
    return info;
}

std::string ResolveDevice(const std::string& requested) {
    if (requested == "cpu") return "cpu";
    if (requested == "cuda" || requested == "auto") {
        if (torch::cuda::is_available()) return "cuda";
        if (requested == "auto") return "cpu";
        throw Unavailable("CUDA requested but this LibTorch sees no CUDA device", "device");
    }
    throw InvalidArgument("must be cpu, cuda or auto, not '" + requested + "'", "device");
}

}  // namespace hilnas::trainer
