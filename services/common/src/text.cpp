#include "hilnas/common/text.h"

#include <cstdio>

namespace hilnas {

namespace {

// Backs up from `n` to the start of the UTF-8 character it falls in.
size_t CharBoundary(std::string_view text, size_t n) {
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    return n;
}

}  // namespace

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    constexpr std::string_view kMark = " [truncated]";
    const size_t keep = max_bytes > kMark.size() ? max_bytes - kMark.size() : 0;
    std::string out(text.substr(0, CharBoundary(text, keep)));
    if (out.size() + kMark.size() <= max_bytes) out += kMark;
    return out;
}

std::string QuoteForMessage(std::string_view text, size_t max_chars) {
    const bool cut = text.size() > max_chars;
    const std::string_view head =
        text.substr(0, CharBoundary(text, std::min(text.size(), max_chars)));
    std::string out;
    for (char c : head) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return cut ? out + "..." : out;
}

}  // namespace hilnas
