// Text that crosses a boundary: cut on a character, quoted short.
#include <gtest/gtest.h>

#include "hilnas/common/text.h"

namespace hilnas {
namespace {

TEST(TruncateUtf8, NeverCutsInsideACharacter) {
    EXPECT_EQ(TruncateUtf8("short", 100), "short");
    // 'é' is two bytes (c3 a9); a cut that would fall between them backs up.
    std::string text(20, 'a');
    for (int i = 0; i < 20; ++i) text += "\xc3\xa9";
    for (size_t max = 13; max < 40; ++max) {
        const std::string cut = TruncateUtf8(text, max);
        EXPECT_LE(cut.size(), max);
        const std::string body = cut.substr(0, cut.find(" [truncated]"));
        size_t continuation = 0;
        for (size_t i = body.size();
             i > 0 && (static_cast<unsigned char>(body[i - 1]) & 0xC0) == 0x80; --i) {
            ++continuation;
        }
        // The body ends on a whole character: no dangling lead or continuation byte.
        EXPECT_NE(static_cast<unsigned char>(body.back()), 0xc3) << max;
        EXPECT_LE(continuation, 1u) << max;
        EXPECT_NE(cut.find(" [truncated]"), std::string::npos) << max;
    }
}

TEST(QuoteForMessage, ShortPrintableAndMarkedWhenCut) {
    EXPECT_EQ(QuoteForMessage("nucleo"), "nucleo");
    EXPECT_EQ(QuoteForMessage("a\nb\x01"), "a\\x0ab\\x01");
    const std::string long_name(10 << 20, 'x');
    const std::string q = QuoteForMessage(long_name);
    EXPECT_EQ(q, std::string(40, 'x') + "...");
}

}  // namespace
}  // namespace hilnas
