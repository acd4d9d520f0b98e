#pragma once

#include <filesystem>
#include <string>

namespace hilnas::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }
    // Writes `text` to `name` inside the directory; returns its path.
    std::string Write(const std::string& name, const std::string& text) const;

  private:
    std::filesystem::path path_;
};

// Paths of built programs and source files, from the environment CTest sets.
std::string BuildPath(const std::string& relative);
std::string SourcePath(const std::string& relative);

}  // namespace hilnas::testing
