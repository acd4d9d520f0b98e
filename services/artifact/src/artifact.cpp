#include "hilnas/artifact/artifact.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hilnas/common/errors.h"

namespace hilnas::artifact {

namespace {

constexpr std::string_view kMagic = "HILNASM1";
constexpr size_t kHeaderBytes = 12;
constexpr size_t kTrailerBytes = 32;

std::string Sha256(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1 ||
        length != kTrailerBytes) {
        throw Internal("sha256 failed");
    }
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Deterministic(const v1::Int8Model& model) {
    std::string bytes;
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    model.SerializeToCodedStream(&out);
    out.Trim();
    return bytes;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : Sha256(bytes)) {
        hex += kHex[b >> 4];
        hex += kHex[b & 0xF];
    }
    return hex;
}

std::string ArtifactDigest(const v1::Int8Model& model) {
    v1::Int8Model copy = model;
    copy.clear_sha256();
    return Sha256Hex(Deterministic(copy));
}

std::string SerializeArtifact(v1::Int8Model model) {
    model.set_sha256(ArtifactDigest(model));
    const std::string body = Deterministic(model);
    std::string file(kMagic);
    const auto n = static_cast<uint32_t>(body.size());
    for (int i = 0; i < 4; ++i) file += static_cast<char>((n >> (8 * i)) & 0xFF);
    return file + body + Sha256(body);
}

v1::Int8Model ParseArtifact(std::string_view bytes, const std::string& source) {
    if (bytes.size() < kHeaderBytes || bytes.substr(0, kMagic.size()) != kMagic) {
        throw InvalidArgument("not a hilnas int8 model artifact (no HILNASM1 header)", source);
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) {
        n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[kMagic.size() + i])) << (8 * i);
    }
    const size_t expected = kHeaderBytes + size_t{n} + kTrailerBytes;
    if (bytes.size() < expected) {
        throw InvalidArgument("truncated artifact: " + std::to_string(bytes.size()) + " of " +
                                  std::to_string(expected) + " bytes",
                              source);
    }
    if (bytes.size() > expected) {
        throw InvalidArgument(
            std::to_string(bytes.size() - expected) + " stray bytes after the artifact", source);
    }
    // The file's checksum covers its bytes exactly, including encodings a
    // parse would normalise away.
    if (Sha256(bytes.substr(kHeaderBytes, n)) != bytes.substr(kHeaderBytes + n)) {
        throw InvalidArgument("corrupt artifact: the file checksum does not match", source);
    }
    v1::Int8Model model;
    if (!model.ParseFromArray(bytes.data() + kHeaderBytes, static_cast<int>(n))) {
        throw InvalidArgument("corrupt artifact: the model does not parse", source);
    }
    if (model.sha256().empty() || ArtifactDigest(model) != model.sha256()) {
        throw InvalidArgument("corrupt artifact: sha256 does not match its contents", source);
    }
    if (model.format_version() != kArtifactFormatVersion) {
        throw InvalidArgument("artifact format version " + std::to_string(model.format_version()) +
                                  " is not supported (this build reads version " +
                                  std::to_string(kArtifactFormatVersion) + ")",
                              source);
    }
    return model;
}

v1::Int8Model ReadArtifact(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InvalidArgument("cannot read the file", path);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return ParseArtifact(bytes.str(), path);
}

void WriteArtifact(const std::string& path, const v1::Int8Model& model) {
    const std::string bytes = SerializeArtifact(model);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw Unavailable("cannot write", tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) throw Unavailable("cannot rename to " + path + ": " + ec.message(), tmp);
}

}  // namespace hilnas::artifact
