#include "ask_tell.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "hilnas/common/errors.h"

namespace hilnas::optimizer::bench {

std::string FormatCsvLine(const Vector& values) {
    std::string line;
    char buffer[32];
    for (size_t i = 0; i < values.size(); ++i) {
        std::snprintf(buffer, sizeof buffer, "%.17g", values[i]);
        if (i > 0) line += ',';
        line += buffer;
    }
    return line;
}

Vector ParseCsvLine(const std::string& line, size_t count, bool allow_nan) {
    std::string text = line;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const std::string shown = text.size() > 80 ? text.substr(0, 80) + "..." : text;
    Vector values;
    size_t start = 0;
    while (true) {
        const size_t comma = text.find(',', start);
        const std::string field =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const char* begin = field.c_str();
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(begin, &end);
        while (end && (*end == ' ' || *end == '\t')) ++end;
        if (end == begin || (end && *end != '\0') || field.find_first_not_of(" \t") == field.npos) {
            throw InvalidArgument("'" + field + "' is not a number in line '" + shown + "'");
        }
        if (std::isinf(v) || (std::isnan(v) && !allow_nan)) {
            throw InvalidArgument("'" + field + "' is not finite in line '" + shown + "'");
        }
        values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (values.size() != count) {
        throw InvalidArgument("expected " + std::to_string(count) + " values, got " +
                              std::to_string(values.size()) + " in line '" + shown + "'");
    }
    return values;
}

AskTellPeer::AskTellPeer(const std::vector<std::string>& argv) {
    if (argv.empty()) throw InvalidArgument("peer: empty command line");
    int down[2];  // we write, the child reads
    int up[2];    // the child writes, we read
    if (pipe2(down, O_CLOEXEC) != 0)
        throw Unavailable("peer: pipe: " + std::string(strerror(errno)));
    if (pipe2(up, O_CLOEXEC) != 0) {
        close(down[0]);
        close(down[1]);
        throw Unavailable("peer: pipe: " + std::string(strerror(errno)));
    }
    // An exec failure is reported through a third pipe that exec closes.
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
        for (int fd : {down[0], down[1], up[0], up[1]}) close(fd);
        throw Unavailable("peer: pipe: " + std::string(strerror(errno)));
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) {
        for (int fd : {down[0], down[1], up[0], up[1], status_pipe[0], status_pipe[1]}) close(fd);
        throw Unavailable("peer: fork: " + std::string(strerror(errno)));
    }
    if (pid_ == 0) {
        dup2(down[0], STDIN_FILENO);
        dup2(up[1], STDOUT_FILENO);
        execvp(args[0], args.data());
        const int e = errno;
        if (write(status_pipe[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    close(status_pipe[1]);
    int exec_errno = 0;
    const ssize_t got = read(status_pipe[0], &exec_errno, sizeof exec_errno);
    close(status_pipe[0]);
    to_child_ = fdopen(down[1], "w");
    from_child_ = fdopen(up[0], "r");
    if (got > 0 || !to_child_ || !from_child_) {
        const std::string why = got > 0 ? strerror(exec_errno) : "fdopen failed";
        Finish();
        throw Unavailable("peer: cannot run " + argv[0] + ": " + why);
    }
}

AskTellPeer::~AskTellPeer() {
    if (pid_ > 0) kill(pid_, SIGKILL);
    Finish();
}

std::optional<Vector> AskTellPeer::Ask(size_t dims) {
    if (!from_child_) return std::nullopt;
    char* line = nullptr;
    size_t capacity = 0;
    const ssize_t length = getline(&line, &capacity, from_child_);
    if (length < 0) {
        std::free(line);
        return std::nullopt;
    }
    const std::string text(line, static_cast<size_t>(length));
    std::free(line);
    return ParseCsvLine(text, dims, false);
}

void AskTellPeer::Tell(const Vector& values) {
    if (!to_child_) return;
    const std::string line = FormatCsvLine(values) + "\n";
    std::fputs(line.c_str(), to_child_);
    std::fflush(to_child_);
}

int AskTellPeer::Finish() {
    if (to_child_) std::fclose(to_child_);
    if (from_child_) std::fclose(from_child_);
    to_child_ = nullptr;
    from_child_ = nullptr;
    if (pid_ <= 0) return -1;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace hilnas::optimizer::bench
