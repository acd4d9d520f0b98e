// Text that crosses a boundary: bounded, and never cut inside a character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hilnas {

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary (so a
// database that checks encodings accepts it); " [truncated]" marks a cut.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

// `text` for an error message: at most `max_chars` bytes of it, control
// characters shown as \xNN, "..." when cut. For echoing input back.
std::string QuoteForMessage(std::string_view text, size_t max_chars = 40);

}  // namespace hilnas
