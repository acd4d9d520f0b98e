// hilnas-calibrate-flash: learns the flash prediction of services/arch (flash.h)
// from real firmware builds, and checks it.
//
//   hilnas-calibrate-flash --write services/arch/src/flash_calibration.inc
//       [--builds 48] [--seed 1] [--board TYPE] [--runtime cortex_m|reference]
//   hilnas-calibrate-flash --check [--models 100] [--seed 2] [--board TYPE]
//
// Calibrating builds `--builds` models sampled from a broad space (every
// block kind, 4- and 8-bit weights, every pooling) for every board and runtime
// variant, reads each link map, and learns the pieces: the base (everything
// that is neither the runtime nor model.c), every runtime function section
// with the kernels that pull it in (a section kept by a build was reached by
// one of its kernels; one it dropped was reached by none of them), and
// model.c's bytes per layer besides its weight arrays (least squares, exact
// in practice). It prints how well the result reproduces its own builds.
//
// Checking builds `--models` other sampled models per board (cortex_m) and
// prints the prediction's error against each ELF's .text + .rodata + .data,
// beside the error of the per-kernel constant estimate the cost model used
// before (the baseline).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hilnas/arch/cost.h"
#include "hilnas/arch/flash.h"
#include "hilnas/arch/kernels.h"
#include "hilnas/arch/space.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/errors.h"
#include "hilnas/firmware/build.h"

namespace {

using namespace hilnas;
namespace fs = std::filesystem;

struct Sample {
    arch::Graph graph;
    v1::Int8Model artifact;
    std::vector<arch::Kernel> kernels;  // per layer, as the code generator calls them
};

// Models that fit `board` comfortably (weights and arena well inside its
// memories): `count` of them, and with `cover`, more until every kernel has
// been called by at least eight.
std::vector<Sample> SampleModels(int count, uint64_t seed, const catalog::BoardType& board,
                                 bool cover) {
    std::mt19937_64 rng(seed);
    std::vector<Sample> out;
    std::array<int, arch::kKernelCount> calls{};
    auto covered = [&] {
        for (int k = 0; k < arch::kKernelCount; ++k) {
            if (k != static_cast<int>(arch::Kernel::kView) && calls[static_cast<size_t>(k)] < 8) {
                return false;
            }
        }
        return true;
    };
    for (int tries = 0;
         (static_cast<int>(out.size()) < count || (cover && !covered())) && tries < 100 * count;
         ++tries) {
        const arch::Model model =
            arch::FlashCalibrationModel(rng, "cal-" + std::to_string(out.size()));
        arch::Graph g = arch::Analyze(model);
        const arch::CostReport cost = arch::ComputeCost(g);
        if (cost.weight_bytes > board.flash_bytes / 2 || cost.arena_bytes > board.sram_bytes / 2) {
            continue;
        }
        if (static_cast<int>(out.size()) >= count) {
            // Past the count, only models that call a kernel not yet covered.
            bool useful = false;
            for (const arch::Kernel kernel : cost.plan.kernels) {
                const auto k = static_cast<size_t>(kernel);
                useful = useful || (k != static_cast<size_t>(arch::Kernel::kView) && calls[k] < 8);
            }
            if (!useful) continue;
        }
        const std::set<arch::Kernel> kernels(cost.plan.kernels.begin(), cost.plan.kernels.end());
        for (arch::Kernel k : kernels) ++calls[static_cast<size_t>(k)];
        out.push_back({std::move(g), artifact::RandomArtifact(model, seed * 1000 + out.size()),
                       cost.plan.kernels});
    }
    return out;
}

uint32_t KernelsCalled(const std::vector<arch::Kernel>& kernels) {
    uint32_t mask = 0;
    for (const arch::Kernel k : kernels) {
        if (k != arch::Kernel::kView) mask |= 1u << static_cast<int>(k);
    }
    return mask;
}

// What one link map says: bytes of each runtime section kept, and model.c's.
struct LinkedSizes {
    std::map<std::string, int64_t> runtime;  // "nn_support.c:.text.nn_foo" -> bytes
    int64_t model = 0;
};

bool IsFlashSection(const std::string& name) {
    for (const char* p : {".text", ".rodata", ".data"}) {
        if (name.rfind(p, 0) == 0) return true;
    }
    return false;
}

LinkedSizes ReadMap(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Unavailable("cannot read the link map", path);
    LinkedSizes out;
    bool in_map = false;
    std::string pending;  // a section name alone on its line: its figures follow
    static const std::regex one_line(R"(^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$)");
    static const std::regex figures(R"(^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$)");
    static const std::regex name_only(R"(^ (\.\S+)$)");
    auto take = [&](const std::string& section, const std::string& addr, const std::string& size,
                    const std::string& object) {
        if (!IsFlashSection(section) || std::stoull(addr, nullptr, 16) == 0) return;
        const int64_t bytes = static_cast<int64_t>(std::stoull(size, nullptr, 16));
        const std::string file = fs::path(object).filename().string();
        if (file == "model.c.obj") {
            out.model += bytes;
        } else if (object.find("/runtime/src/") != std::string::npos) {
            const std::string stem = file.substr(0, file.size() - std::strlen(".obj"));
            out.runtime[stem + ":" + section] += bytes;
        }
    };
    for (std::string line; std::getline(in, line);) {
        if (!in_map) {
            in_map = line.rfind("Linker script and memory map", 0) == 0;
            continue;
        }
        std::smatch m;
        if (!pending.empty() && std::regex_match(line, m, figures)) {
            take(pending, m[1], m[2], m[3]);
            pending.clear();
            continue;
        }
        pending.clear();
        if (std::regex_match(line, m, one_line)) {
            take(m[1], m[2], m[3], m[4]);
        } else if (std::regex_match(line, m, name_only)) {
            pending = m[1];
        }
    }
    if (!in_map) throw Unavailable("not a GNU ld map (no memory map)", path);
    return out;
}

struct Build {
    uint32_t kernels = 0;
    int64_t total = 0;
    LinkedSizes linked;
    const Sample* sample = nullptr;
};

// Least squares by the normal equations (tiny systems): x minimising |A x - b|.
std::vector<double> LeastSquares(const std::vector<std::vector<double>>& a,
                                 const std::vector<double>& b) {
    const size_t n = a.empty() ? 0 : a[0].size();
    std::vector<std::vector<double>> m(n, std::vector<double>(n + 1, 0.0));
    for (size_t r = 0; r < a.size(); ++r) {
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = 0; j < n; ++j) m[i][j] += a[r][i] * a[r][j];
            m[i][n] += a[r][i] * b[r];
        }
    }
    for (size_t c = 0; c < n; ++c) {
        size_t best = c;
        for (size_t r = c + 1; r < n; ++r) {
            if (std::abs(m[r][c]) > std::abs(m[best][c])) best = r;
        }
        std::swap(m[c], m[best]);
        if (std::abs(m[c][c]) < 1e-9) continue;  // unidentified: stays 0
        for (size_t r = 0; r < n; ++r) {
            if (r == c) continue;
            const double f = m[r][c] / m[c][c];
            for (size_t k = c; k <= n; ++k) m[r][k] -= f * m[c][k];
        }
    }
    std::vector<double> x(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        if (std::abs(m[i][i]) >= 1e-9) x[i] = m[i][n] / m[i][i];
    }
    return x;
}

// model.c's bytes that PredictFlash computes exactly: weight arrays and name.
int64_t ExactModelBytes(const Sample& s) {
    arch::FlashCalibration zero{};
    zero.pieces = nullptr;
    zero.piece_count = 0;
    const arch::FlashPrediction p = arch::PredictFlash(s.graph, s.kernels, zero);
    return p.weight_array_bytes + p.model_code_bytes;  // model_bytes and layer_bytes are 0
}

struct Learnt {
    std::string board, runtime, toolchain;
    int builds = 0;
    int64_t base = 0, model_bytes = 0;
    std::array<int64_t, arch::kKernelCount> layer_bytes{};
    std::vector<std::pair<std::string, std::pair<int64_t, uint32_t>>> pieces;  // name, bytes, mask
};

// The fewest kernels of `mask` that explain every build that kept section
// `name` (greedy set cover). `mask` holds every kernel never called without the
// section, which includes bystanders: a rare kernel (the residual add) whose
// few builds all happened to call the section's real caller. Keeping them
// would charge the section to models that call only the bystander.
uint32_t Parsimonious(const std::vector<Build>& builds, const std::string& name, uint32_t mask) {
    std::vector<uint32_t> kept;  // kernels of each build that kept it
    for (const Build& b : builds) {
        if (b.linked.runtime.contains(name)) kept.push_back(b.kernels & mask);
    }
    uint32_t chosen = 0;
    for (;;) {
        int best = -1, best_hits = 0;
        for (int k = 0; k < arch::kKernelCount; ++k) {
            if ((mask >> k & 1u) == 0 || (chosen >> k & 1u) != 0) continue;
            int hits = 0;
            for (uint32_t b : kept) hits += (b & chosen) == 0 && (b >> k & 1u) != 0;
            if (hits > best_hits) best = k, best_hits = hits;
        }
        if (best < 0) return chosen != 0 ? chosen : mask;
        chosen |= 1u << best;
    }
}

Learnt Learn(const std::vector<Build>& builds, const std::string& board, const std::string& runtime,
             const std::string& toolchain) {
    Learnt l;
    l.board = board;
    l.runtime = runtime;
    l.toolchain = toolchain;
    l.builds = static_cast<int>(builds.size());
    uint32_t seen = 0;
    for (const Build& b : builds) seen |= b.kernels;
    std::map<std::string, std::pair<int64_t, uint32_t>> pieces;  // bytes, kernels that may pull it
    std::set<std::string> names;
    for (const Build& b : builds) {
        for (const auto& [name, bytes] : b.linked.runtime) names.insert(name);
    }
    for (const std::string& name : names) {
        int64_t bytes = 0;
        uint32_t mask = seen;
        bool always = true;
        for (const Build& b : builds) {
            const auto it = b.linked.runtime.find(name);
            if (it == b.linked.runtime.end()) {
                mask &= ~b.kernels;  // none of this build's kernels reaches it
                always = false;
            } else {
                bytes = std::max(bytes, it->second);
            }
        }
        if (!always) mask = Parsimonious(builds, name, mask);
        pieces[name] = {bytes, always ? 0u : mask};
    }
    for (const auto& [name, piece] : pieces) l.pieces.push_back({name, piece});
    // model.c besides what is exact: a constant plus one per layer by kernel.
    std::vector<std::vector<double>> a;
    std::vector<double> y;
    for (const Build& b : builds) {
        std::vector<double> row(1 + arch::kKernelCount, 0.0);
        row[0] = 1;
        for (const arch::Kernel k : b.sample->kernels) row[1 + static_cast<size_t>(k)] += 1;
        a.push_back(row);
        y.push_back(static_cast<double>(b.linked.model - ExactModelBytes(*b.sample)));
    }
    const std::vector<double> x = LeastSquares(a, y);
    l.model_bytes = std::llround(x[0]);
    for (int k = 0; k < arch::kKernelCount; ++k) {
        l.layer_bytes[static_cast<size_t>(k)] = std::llround(x[1 + static_cast<size_t>(k)]);
    }
    // The base: what neither the runtime nor model.c holds (median: fill varies a little).
    std::vector<int64_t> base;
    for (const Build& b : builds) {
        int64_t runtime_bytes = 0;
        for (const auto& [name, bytes] : b.linked.runtime) runtime_bytes += bytes;
        base.push_back(b.total - runtime_bytes - b.linked.model);
    }
    std::sort(base.begin(), base.end());
    l.base = base[base.size() / 2];
    return l;
}

// A Learnt as the FlashCalibration PredictFlash reads (pointing into `l`).
arch::FlashCalibration View(const Learnt& l, std::vector<arch::FlashPiece>& storage) {
    storage.clear();
    for (const auto& [name, piece] : l.pieces) {
        storage.push_back({name.c_str(), piece.first, piece.second});
    }
    arch::FlashCalibration c{};
    c.board = l.board.c_str();
    c.runtime = l.runtime.c_str();
    c.base_bytes = l.base;
    c.model_bytes = l.model_bytes;
    c.layer_bytes = l.layer_bytes;
    c.pieces = storage.data();
    c.piece_count = static_cast<int>(storage.size());
    c.builds = l.builds;
    c.toolchain = l.toolchain.c_str();
    return c;
}

std::string Identifier(std::string text) {
    for (char& c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return text;
}

std::string Escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

void WriteInc(const std::string& path, const std::vector<Learnt>& all, uint64_t seed) {
    std::ostringstream o;
    o << "// Generated by hilnas-calibrate-flash --write (seed " << seed
      << "): the flash prediction's pieces per\n"
         "// board and runtime, learnt from real builds. Do not edit; when\n"
         "// flash_calibration_test says the prediction drifted, run it again:\n"
         "//   build/firmware/codegen/hilnas-calibrate-flash --write "
         "services/arch/src/flash_calibration.inc\n"
         "// clang-format off\n";
    for (const Learnt& l : all) {
        o << "constexpr FlashPiece kPieces_" << Identifier(l.board + "_" + l.runtime) << "[] = {\n";
        for (const auto& [name, piece] : l.pieces) {
            o << "    {\"" << Escape(name) << "\", " << piece.first << ", 0x" << std::hex
              << piece.second << std::dec << "},\n";
        }
        o << "};\n";
    }
    o << "constexpr FlashCalibration kFlashCalibrations[] = {\n";
    for (const Learnt& l : all) {
        o << "    {\"" << l.board << "\", \"" << l.runtime << "\", " << l.base << ", "
          << l.model_bytes << ",\n     {";
        for (int k = 0; k < arch::kKernelCount; ++k) {
            o << (k ? ", " : "") << l.layer_bytes[static_cast<size_t>(k)];
        }
        o << "},\n     kPieces_" << Identifier(l.board + "_" + l.runtime) << ", " << l.pieces.size()
          << ", " << l.builds << ",\n     \"" << Escape(l.toolchain) << "\"},\n";
    }
    o << "};\n// clang-format on\n";
    std::ofstream out(path, std::ios::trunc);
    out << o.str();
    if (!out) throw Unavailable("cannot write", path);
}

// The estimate the cost model used before calibration: a 17 KB base, a
// constant per kernel kind, 48 bytes per call.
int64_t BaselineEstimate(const arch::Graph& g, int64_t weight_bytes) {
    int64_t code = 17408;
    std::set<arch::Kernel> kinds;
    for (int i = 0; i < g.num_layers(); ++i) {
        const arch::Kernel k = arch::KernelOf(g, i);
        if (k == arch::Kernel::kView) continue;
        code += 48;
        if (!kinds.insert(k).second) continue;
        switch (k) {
            case arch::Kernel::kConv:
            case arch::Kernel::kConvSparse:
                code += 1600;
                break;
            case arch::Kernel::kConv1x1:
            case arch::Kernel::kConv1x1InPlace:
                code += 640;
                break;
            case arch::Kernel::kConvS4:
                code += 2112;
                break;
            case arch::Kernel::kDepthwise:
            case arch::Kernel::kDepthwiseInPlace:
            case arch::Kernel::kDepthwiseS4:
                code += 1280;
                break;
            case arch::Kernel::kMaxPool:
                code += 384;
                break;
            case arch::Kernel::kAvgPool:
            case arch::Kernel::kAdd:
                code += 448;
                break;
            case arch::Kernel::kGlobalAvgPool:
                code += 256;
                break;
            case arch::Kernel::kFullyConnected:
            case arch::Kernel::kFullyConnectedSparse:
                code += 512;
                break;
            case arch::Kernel::kFullyConnectedS4:
                code += 896;
                break;
            case arch::Kernel::kView:
                break;
        }
    }
    return weight_bytes + code;
}

double Percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(std::llround(q * static_cast<double>(v.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
    std::string write_path, only_board, only_runtime;
    bool check = false;
    int builds = 48, models = 100;
    uint64_t seed = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "hilnas-calibrate-flash: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--write") {
            write_path = value();
        } else if (a == "--check") {
            check = true;
        } else if (a == "--builds") {
            builds = std::atoi(value().c_str());
        } else if (a == "--models") {
            models = std::atoi(value().c_str());
        } else if (a == "--seed") {
            seed = std::strtoull(value().c_str(), nullptr, 10);
        } else if (a == "--board") {
            only_board = value();
        } else if (a == "--runtime") {
            only_runtime = value();
        } else {
            std::fprintf(stderr,
                         "usage: hilnas-calibrate-flash --write FILE.inc [--builds N] [--seed S] "
                         "[--board TYPE] [--runtime cortex_m|reference]\n"
                         "       hilnas-calibrate-flash --check [--models N] [--seed S] "
                         "[--board TYPE]\n");
            return 2;
        }
    }
    if (write_path.empty() == !check || builds < 8 || models < 1) {
        std::fprintf(stderr,
                     "hilnas-calibrate-flash: one of --write FILE or --check "
                     "(--builds >= 8, --models >= 1)\n");
        return 2;
    }
    if (seed == 0) seed = check ? 2 : 1;
    try {
        const fs::path work =
            fs::temp_directory_path() / ("hilnas-calibrate-flash-" + std::to_string(::getpid()));
        std::vector<Learnt> learnt;
        for (const catalog::BoardType& board : catalog::BoardTypes()) {
            if (!only_board.empty() && board.name != only_board) continue;
            for (const std::string runtime : {"cortex_m", "reference"}) {
                if (check && runtime != "cortex_m") continue;
                if (!only_runtime.empty() && runtime != only_runtime) continue;
                const std::vector<Sample> samples =
                    SampleModels(check ? models : builds, seed, board, !check);
                firmware::BuildOptions options;
                options.board = board.name;
                options.runtime_variant = runtime;
                options.out_dir = (work / (board.name + "-" + runtime)).string();
                std::vector<Build> done;
                std::string toolchain;
                std::vector<double> errors, baseline_errors;
                int64_t worst = 0;
                for (const Sample& s : samples) {
                    firmware::FirmwareBuild fw;
                    try {
                        fw = firmware::BuildFirmware(s.artifact, options);
                    } catch (const Unavailable& e) {
                        std::fprintf(stderr, "  %s: skipped a model that did not build: %.200s\n",
                                     board.name.c_str(), e.what());
                        continue;
                    }
                    toolchain = fw.toolchain;
                    const int64_t total = fw.sizes.flash_bytes();
                    if (check) {
                        const arch::CostReport cost =
                            arch::ComputeCost(s.graph, arch::PlanStrategy::kBest,
                                              arch::RuntimeScratchBytes, board.name);
                        const double err = static_cast<double>(cost.flash_bytes - total) /
                                           static_cast<double>(total);
                        errors.push_back(std::abs(err));
                        baseline_errors.push_back(
                            std::abs(static_cast<double>(
                                         BaselineEstimate(s.graph, cost.weight_bytes) - total) /
                                     static_cast<double>(total)));
                        worst = std::max(worst, std::abs(cost.flash_bytes - total));
                        continue;
                    }
                    Build b;
                    b.kernels = KernelsCalled(s.kernels);
                    b.total = total;
                    b.linked = ReadMap(fs::path(fw.elf).parent_path() / "hilnas-fw.map");
                    b.sample = &s;
                    done.push_back(std::move(b));
                }
                if (check) {
                    std::printf(
                        "%-20s %3zu models  |error| median %5.2f%%  p90 %5.2f%%  max %5.2f%% "
                        "(%lld B)   baseline (per-kind constants) median %5.2f%%  max %5.2f%%  "
                        "max ratio %.1fx\n",
                        board.name.c_str(), errors.size(), 100 * Percentile(errors, 0.5),
                        100 * Percentile(errors, 0.9), 100 * Percentile(errors, 1.0),
                        static_cast<long long>(worst), 100 * Percentile(baseline_errors, 0.5),
                        100 * Percentile(baseline_errors, 1.0),
                        Percentile(baseline_errors, 1.0) /
                            std::max(Percentile(errors, 1.0), 1e-12));
                    std::fflush(stdout);
                    continue;
                }
                for (int k = 0; k < arch::kKernelCount; ++k) {
                    bool called = false;
                    for (const Build& b : done) called = called || (b.kernels >> k & 1u) != 0;
                    if (!called && k != static_cast<int>(arch::Kernel::kView)) {
                        throw Unavailable(std::string("no build called ") +
                                              arch::KernelFunction(static_cast<arch::Kernel>(k)) +
                                              "; raise --builds",
                                          board.name);
                    }
                }
                if (done.size() < 8) {
                    throw Unavailable("only " + std::to_string(done.size()) + " models built",
                                      board.name);
                }
                Learnt l = Learn(done, board.name, runtime, toolchain);
                std::vector<arch::FlashPiece> storage;
                const arch::FlashCalibration c = View(l, storage);
                int64_t max_err = 0;
                double max_rel = 0;
                for (const Build& b : done) {
                    const int64_t e =
                        arch::PredictFlash(b.sample->graph, b.sample->kernels, c).total_bytes -
                        b.total;
                    max_err = std::max(max_err, std::abs(e));
                    max_rel = std::max(
                        max_rel, std::abs(static_cast<double>(e)) / static_cast<double>(b.total));
                }
                std::printf(
                    "%-20s %-9s %2zu builds, %3zu runtime sections, base %lld B: own "
                    "builds reproduced within %lld B (%.2f%%)\n",
                    board.name.c_str(), runtime.c_str(), done.size(), l.pieces.size(),
                    static_cast<long long>(l.base), static_cast<long long>(max_err), 100 * max_rel);
                std::fflush(stdout);
                learnt.push_back(std::move(l));
            }
        }
        std::error_code ec;
        fs::remove_all(work, ec);
        if (!check) {
            if (learnt.empty()) throw InvalidArgument("no board and runtime matched", "--board");
            WriteInc(write_path, learnt, seed);
            std::printf("wrote %s\n", write_path.c_str());
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "hilnas-calibrate-flash: %s\n", e.what());
        return 1;
    }
    return 0;
}
