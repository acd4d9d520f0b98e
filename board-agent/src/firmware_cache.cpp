#include "hilnas/agent/firmware_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "hilnas/artifact/artifact.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"
#include "hilnas/common/version.h"

namespace hilnas::agent {

namespace fs = std::filesystem;

namespace {

// A digest of every file under the firmware sources (path, then contents), so
// an entry built from other sources (an edited harness, a newer checkout)
// is never reused.
std::string SourcesDigest(const std::string& dir) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::string all;
    for (const fs::path& f : files) {
        all += fs::relative(f, dir).string();
        all += '\0';
        std::ifstream in(f, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        all += bytes.str();
    }
    return artifact::Sha256Hex(all);
}

// What identifies a build beyond its directory name; an entry whose stamp
// differs (other sources, another toolchain, another hilnas) is rebuilt.
std::string Stamp(const std::string& toolchain, const std::string& sources) {
    return std::string("hilnas ") + Version() + "\n" + toolchain + "\nsources " + sources + "\n";
}

// An exclusive lock on the cache directory, across processes (a running agent
// and `hilnas-agent check` share a cache): released when the fd closes.
class DirLock {
  public:
    explicit DirLock(const std::string& dir) {
        fd_ = ::open((fs::path(dir) / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
            if (fd_ >= 0) ::close(fd_);
            throw Unavailable("cannot lock the firmware cache " + dir);
        }
    }
    ~DirLock() { ::close(fd_); }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

  private:
    int fd_ = -1;
};

std::string ReadFile(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void WriteEntry(const fs::path& dir, const std::string& stamp, const firmware::FirmwareBuild& b) {
    std::ofstream out(dir / "entry.tmp");
    const auto& s = b.sizes;
    out << stamp << b.arena_bytes << ' ' << b.weight_bytes << ' ' << s.isr_vector << ' ' << s.text
        << ' ' << s.rodata << ' ' << s.exidx << ' ' << s.data << ' ' << s.bss << ' ' << s.stack
        << '\n';
    out.close();
    if (!out) throw Unavailable("cannot write the firmware cache entry in " + dir.string());
    fs::rename(dir / "entry.tmp", dir / "entry");  // an entry exists only once complete
}

bool ReadEntry(const fs::path& dir, const std::string& stamp, firmware::FirmwareBuild* b) {
    const std::string text = ReadFile(dir / "entry");
    if (text.rfind(stamp, 0) != 0) return false;
    std::istringstream in(text.substr(stamp.size()));
    auto& s = b->sizes;
    if (!(in >> b->arena_bytes >> b->weight_bytes >> s.isr_vector >> s.text >> s.rodata >>
          s.exidx >> s.data >> s.bss >> s.stack)) {
        return false;
    }
    b->elf = (dir / "build" / "hilnas-fw.elf").string();
    return fs::exists(b->elf);
}

double Seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

FirmwareCache::FirmwareCache(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw Unavailable("cannot create the firmware cache " + dir_ + ": " + ec.message());
}

CachedFirmware FirmwareCache::Get(const v1::Int8Model& model, firmware::BuildOptions options) {
    std::lock_guard lock(mu_);
    const DirLock dir_lock(dir_);
    if (sources_.empty())
        sources_ = SourcesDigest(firmware::FirmwareSourceDir(options.firmware_dir));
    if (toolchain_.empty()) {
        ProcessOptions p;
        p.argv = {"arm-none-eabi-gcc", "--version"};
        p.timeout = std::chrono::seconds(20);
        const ProcessResult r = RunProcess(p);
        if (!r.ok()) throw Unavailable("arm-none-eabi-gcc " + r.Describe());
        toolchain_ = r.out.substr(0, r.out.find('\n'));
    }
    const std::string digest = artifact::ArtifactDigest(model);
    std::string name = digest.substr(0, 24) + "-" + options.board + "-" + options.runtime_variant;
    if (options.energy_mode) name += "-energy";
    if (!options.in_place_layers) name += "-no-in-place";
    if (!options.sparse_weights) name += "-dense";
    if (!options.fault.empty()) name += "-fault-" + options.fault;
    const fs::path entry = fs::path(dir_) / name;
    const std::string stamp = Stamp(toolchain_, sources_);
    CachedFirmware out;
    if (ReadEntry(entry, stamp, &out.build)) {
        out.build.toolchain = toolchain_;
        out.hit = true;
        ++hits_;
        return out;
    }
    ++misses_;
    std::error_code ec;
    fs::remove_all(entry, ec);
    options.out_dir = entry.string();
    const auto start = std::chrono::steady_clock::now();
    try {
        out.build = firmware::BuildFirmware(model, options);
    } catch (...) {
        fs::remove_all(entry, ec);
        throw;
    }
    out.codegen_seconds = out.build.codegen_seconds;
    out.compile_seconds = Seconds(std::chrono::steady_clock::now() - start) - out.codegen_seconds;
    WriteEntry(entry, stamp, out.build);
    return out;
}

}  // namespace hilnas::agent
