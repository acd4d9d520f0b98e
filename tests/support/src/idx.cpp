#include "hilnas/testing/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace hilnas::testing {

std::string IdxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
    std::string s{0, 0, 8, static_cast<char>(dims.size())};
    for (uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            s.push_back(static_cast<char>((d >> shift) & 0xff));
        }
    }
    s.append(data.begin(), data.end());
    return s;
}

void WriteGz(const std::filesystem::path& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    gzclose(f);
}

}  // namespace hilnas::testing
