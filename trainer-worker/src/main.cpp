// hilnas-trainer: the trainer worker. So far it reports the compute device it
// would train on; training, DNAS, pruning, QAT and export arrive with issue #6.
//
//   hilnas-trainer info [--device cpu|cuda|auto]
#include <cstring>
#include <iostream>

#include "device.h"
#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/version.h"

int main(int argc, char** argv) {
    if (argc < 2 || std::strcmp(argv[1], "info") != 0) {
        std::cerr << "usage: hilnas-trainer info [--device cpu|cuda|auto]\n";
        return 2;
    }
    try {
        hilnas::ConfigSchema schema;
        schema.Add({"device", hilnas::OptionType::kString, "auto", "cpu, cuda or auto"});
        const auto config = hilnas::Config::Load(
            schema, std::vector<std::string>(argv + 2, argv + argc), hilnas::ProcessEnvironment());
        const auto info = hilnas::trainer::ProbeDevice();
        std::cout << "{\"hilnas\":\"" << hilnas::Version() << "\",\"libtorch\":\""
                  << info.torch_version
                  << "\",\"cuda_available\":" << (info.cuda_available ? "true" : "false")
                  << ",\"cuda_devices\":" << info.cuda_devices
                  << ",\"cpu_threads\":" << info.cpu_threads << ",\"device\":\""
                  << hilnas::trainer::ResolveDevice(config.GetString("device")) << "\"}\n";
        return 0;
    } catch (const hilnas::Error& e) {
        std::cerr << "hilnas-trainer: " << e.what() << "\n";
        return hilnas::IsCallersFault(e.code()) ? 2 : 1;
    }
}
