// The ask/tell protocol over stdio that `hilnas-bench-optimizer --problem
// stdio` speaks as the optimiser and bench/optuna_peer.py speaks as a peer:
// the optimiser writes each suggested point as one CSV line (D numbers in
// [0, 1], full precision) and reads the objective values, all minimised, as
// one CSV line (M numbers). Either side stops after the agreed number of
// evaluations; the black box (and so every problem's definition) stays with
// whoever answers the points.
#pragma once

#include <sys/types.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "hilnas/optimizer/matrix.h"

namespace hilnas::optimizer::bench {

// Values with 17 significant digits, comma-separated, no newline: parsing the
// line gives the same doubles back.
std::string FormatCsvLine(const Vector& values);

// Exactly `count` comma-separated numbers (spaces around them allowed); throws
// InvalidArgument naming what is wrong: the count, text that is not a number,
// infinity, or NaN unless `allow_nan` (a failed evaluation).
Vector ParseCsvLine(const std::string& line, size_t count, bool allow_nan);

// An ask/tell optimiser in a child process: it writes points on its stdout
// and reads objective values on its stdin; its stderr is ours.
class AskTellPeer {
  public:
    // Starts argv (argv[0] looked up in PATH); throws Unavailable when it
    // cannot be started.
    explicit AskTellPeer(const std::vector<std::string>& argv);
    AskTellPeer(const AskTellPeer&) = delete;
    AskTellPeer& operator=(const AskTellPeer&) = delete;
    ~AskTellPeer();  // kills the child if it still runs, and reaps it

    // The next point (`dims` values), or nullopt when the child closed its
    // output; throws InvalidArgument for a malformed line.
    std::optional<Vector> Ask(size_t dims);
    // Sends the objective values of the last point.
    void Tell(const Vector& values);
    // Closes the child's stdin and waits for it: its exit status, or 128 +
    // the signal that ended it.
    int Finish();

  private:
    pid_t pid_ = -1;
    FILE* to_child_ = nullptr;
    FILE* from_child_ = nullptr;
};

}  // namespace hilnas::optimizer::bench
