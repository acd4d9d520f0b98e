#include <cstdlib>
#include <stdexcept>

#include "hilnas/testing/temp_dir.h"

namespace hilnas::testing {

namespace {
std::string FromEnv(const char* name, const std::string& relative) {
    const char* dir = std::getenv(name);
    if (dir == nullptr || *dir == '\0') {
        throw std::runtime_error(std::string(name) + " is not set: run the tests through ctest");
    }
    return std::string(dir) + "/" + relative;
}
}  // namespace

std::string BuildPath(const std::string& relative) { return FromEnv("HILNAS_BUILD_DIR", relative); }
std::string SourcePath(const std::string& relative) {
    return FromEnv("HILNAS_SOURCE_DIR", relative);
}

}  // namespace hilnas::testing
