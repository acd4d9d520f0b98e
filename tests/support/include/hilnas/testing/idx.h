// Synthetic dataset files for tests: IDX bytes (the MNIST format) and gzip.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hilnas::testing {

// An IDX file of unsigned bytes: magic 00 00 08 <dims>, big-endian sizes, data.
std::string IdxBytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data);

// Writes `bytes` gzip-compressed to `path` (a test failure if it cannot).
void WriteGz(const std::filesystem::path& path, const std::string& bytes);

}  // namespace hilnas::testing
