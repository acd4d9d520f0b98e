// The configuration loader: Config::Load with a YAML file (--config FILE)
// against a schema with every option type, nested keys and a secret, as the
// programs declare theirs. The file is an in-memory file (memfd), rewritten
// for each input: no disk, no clean-up. The input's first line also goes
// through ParseDuration, as an environment variable or flag value would.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.h"
#include "hilnas/common/config.h"

using namespace hilnas;

namespace {

ConfigSchema Schema() {
    ConfigSchema schema;
    schema.Add({"listen", OptionType::kString, "127.0.0.1:50051", "address"})
        .Add({"workers", OptionType::kInt, "4", "workers"})
        .Add({"ratio", OptionType::kDouble, "0.5", "ratio"})
        .Add({"verbose", OptionType::kBool, "false", "verbose"})
        .Add({"lease", OptionType::kDuration, "60s", "lease"})
        .Add({"lease.renew", OptionType::kDuration, "15s", "renewal"})
        .Add({"auth.user_tokens", OptionType::kStringList, "", "tokens", true})
        .Add({"store.pool_size", OptionType::kInt, "8", "connections"})
        .Add({"log.format", OptionType::kString, "text", "format"});
    return schema;
}

// The in-memory file and its path, made once per process.
const std::string& FilePath(int* fd) {
    static int file = -1;
    static const std::string path = [] {
        file = memfd_create("fuzz_config.yaml", 0);
        if (file < 0) std::abort();
        return "/proc/self/fd/" + std::to_string(file);
    }();
    *fd = file;
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text = fuzz::AsText(data, size);
    fuzz::Accepts([&] { (void)ParseDuration(text.substr(0, text.find('\n')), "fuzz"); });

    static const ConfigSchema schema = Schema();
    int fd = -1;
    const std::string& path = FilePath(&fd);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
        std::abort();
    }
    Config config;
    if (!fuzz::Accepts([&] { config = Config::Load(schema, {"--config", path}, {}); })) return 0;
    for (const auto& spec : schema.options()) {
        switch (spec.type) {
            case OptionType::kString:
                (void)config.GetString(spec.key);
                break;
            case OptionType::kInt:
                (void)config.GetInt(spec.key);
                break;
            case OptionType::kDouble:
                (void)config.GetDouble(spec.key);
                break;
            case OptionType::kBool:
                (void)config.GetBool(spec.key);
                break;
            case OptionType::kDuration:
                fuzz::Require(config.GetDuration(spec.key).count() >= 0, "a duration is negative");
                break;
            case OptionType::kStringList:
                (void)config.GetStringList(spec.key);
                break;
        }
    }
    (void)config.Describe();
    return 0;
}
