// The int8 model artifact (hilnas.v1.Int8Model): reading, writing, checking.
//
// On disk: "HILNASM1", the message length (uint32, little-endian), the
// message, and the raw sha256 of the message bytes (32 bytes). The message
// also carries the hex sha256 of its own contents: the model's identity in
// the database and in the firmware. Reading checks the magic, the length, the
// file checksum, the parse and the identity, and says which failed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hilnas/arch/model.h"
#include "hilnas/v1/artifact.pb.h"

namespace hilnas::artifact {

inline constexpr uint32_t kArtifactFormatVersion = 1;

// The lowercase hex sha256 of `model` serialised with its sha256 field empty.
std::string ArtifactDigest(const v1::Int8Model& model);

// The lowercase hex sha256 of any bytes (an ELF, a set of sources).
std::string Sha256Hex(std::string_view bytes);

// The file bytes for `model`, with its sha256 filled in.
std::string SerializeArtifact(v1::Int8Model model);
// Throws InvalidArgument naming `source` for a bad magic, a truncated or
// over-long file, an unparsable message or a digest that does not match.
v1::Int8Model ParseArtifact(std::string_view bytes, const std::string& source);

v1::Int8Model ReadArtifact(const std::string& path);
// Writes to a temporary file and renames it, so readers never see half a file.
void WriteArtifact(const std::string& path, const v1::Int8Model& model);

// Checks everything the runtime relies on, so generated code runs without
// checks: a valid IR, one quantised layer per IR layer, weight, bias and
// requantisation arrays of the right sizes, parameters in the kernels'
// ranges, pools that keep their input's quantisation, windows that overlap
// their input, dot products within the runtime's accumulation depth.
// Returns the analysed graph; throws InvalidArgument naming the layer and field.
arch::Graph ValidateArtifact(const v1::Int8Model& model);

// SpArSe's model size, counted in the weights themselves: each layer's
// non-zero weights (4-bit layers: non-zero nibbles, two to a byte, rounded up)
// plus 12 bytes per output channel (int32 bias, multiplier and shift), as the
// cost model's nonzero_weight_bytes defines it.
int64_t NonzeroWeightBytes(const v1::Int8Model& model);

// A valid artifact with random weights and quantisation for `model`,
// deterministic in `seed`: for tests, benchmarks and health-check firmware.
v1::Int8Model RandomArtifact(const arch::Model& model, uint64_t seed);

}  // namespace hilnas::artifact
