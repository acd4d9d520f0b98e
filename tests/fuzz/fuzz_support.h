// Helpers shared by the fuzz targets. A parser's documented refusal is a
// hilnas::Error (InvalidArgument, Unavailable, ...): the targets catch those
// and nothing else, so a std:: or yaml-cpp exception escapes to libFuzzer
// (std::terminate, reported as a crash), as do sanitizer reports and the
// broken properties that Require() checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "hilnas/common/errors.h"

namespace hilnas::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Aborts, with `what` on stderr, when a property the parser promises fails.
inline void Require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "fuzz: property violated: %s\n", what);
    std::abort();
}

// Runs `body`; false when it refused the input with a hilnas::Error.
template <typename Body>
bool Accepts(Body&& body) {
    try {
        body();
        return true;
    } catch (const Error&) {
        return false;
    }
}

}  // namespace hilnas::fuzz
