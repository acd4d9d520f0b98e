#include "hilnas/common/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "hilnas/common/errors.h"

extern char** environ;

namespace hilnas {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Writing to a pipe whose reader died must be an error, not a signal that
// ends this process.
void IgnoreSigpipeOnce() {
    static std::once_flag once;
    std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            Close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { Close(); }
    int get() const { return fd_; }
    void Close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

struct Pipe {
    Fd read;
    Fd write;
};

Pipe MakePipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw Unavailable(std::string("pipe2 failed: ") + std::strerror(errno));
    }
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Everything the child needs, prepared before fork(): after fork() in a
// threaded program only async-signal-safe calls are allowed.
struct Prepared {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::vector<char*> argv;
    std::vector<char*> envp;
    std::string cwd;
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

Prepared Prepare(const ProcessOptions& options) {
    if (options.argv.empty() || options.argv[0].empty()) {
        throw InvalidArgument("no program to run", "argv");
    }
    Prepared p;
    p.args = options.argv;
    std::map<std::string, std::string> merged;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string kv(*e);
        const size_t eq = kv.find('=');
        if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : options.env) merged[k] = v;
    for (const auto& [k, v] : merged) p.env.push_back(k + "=" + v);
    for (auto& a : p.args) p.argv.push_back(a.data());
    p.argv.push_back(nullptr);
    for (auto& e : p.env) p.envp.push_back(e.data());
    p.envp.push_back(nullptr);
    p.cwd = options.cwd;
    if (!options.run_as_user.empty()) {
        passwd pw{};
        passwd* found = nullptr;
        std::vector<char> buf(16384);
        if (::getpwnam_r(options.run_as_user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 ||
            found == nullptr) {
            throw Unavailable("no such user '" + options.run_as_user + "'", "run_as_user");
        }
        p.switch_user = true;
        p.uid = pw.pw_uid;
        p.gid = pw.pw_gid;
    }
    return p;
}

[[noreturn]] void ChildFail(int report_fd, int stage) {
    const int err[2] = {stage, errno};
    [[maybe_unused]] const ssize_t n = ::write(report_fd, err, sizeof err);
    ::_exit(127);
}

enum Stage { kStageDup = 1, kStageChdir, kStageUser, kStageExec };

// Forks and execs; returns the pid once exec has succeeded, or throws with
// the reason it could not.
pid_t Spawn(const Prepared& p, int in_fd, int out_fd, int err_fd) {
    Pipe report = MakePipe();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw Unavailable(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        ::setpgid(0, 0);
        if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
            ChildFail(report.write.get(), kStageDup);
        }
        if (!p.cwd.empty() && ::chdir(p.cwd.c_str()) != 0)
            ChildFail(report.write.get(), kStageChdir);
        if (p.switch_user) {
            if (::setgroups(1, &p.gid) != 0 || ::setgid(p.gid) != 0 || ::setuid(p.uid) != 0) {
                ChildFail(report.write.get(), kStageUser);
            }
        }
        // The child dies with us (set after the user switch, which clears it).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        ::signal(SIGPIPE, SIG_DFL);
        ::execvpe(p.argv[0], p.argv.data(), p.envp.data());
        ChildFail(report.write.get(), kStageExec);
    }
    ::setpgid(pid, pid);  // also here, so killing the group right away cannot miss it
    report.write.Close();
    int err[2] = {0, 0};
    ssize_t n;
    do {
        n = ::read(report.read.get(), err, sizeof err);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        const char* what = err[0] == kStageChdir  ? "cannot enter directory '"
                           : err[0] == kStageUser ? "cannot switch to the user for '"
                                                  : "cannot run '";
        const std::string subject = err[0] == kStageChdir ? p.cwd : p.args[0];
        throw Unavailable(what + subject + "': " + std::strerror(err[1]));
    }
    return pid;
}

// Kills the group with SIGTERM, then SIGKILL after `grace`; reaps the child.
int TerminateGroup(pid_t pid, milliseconds grace) {
    ::kill(-pid, SIGTERM);
    const auto deadline = Clock::now() + grace;
    int status = 0;
    while (true) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return status;
        if (Clock::now() >= deadline) {
            ::kill(-pid, SIGKILL);
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        std::this_thread::sleep_for(milliseconds(5));
    }
    ::kill(-pid, SIGKILL);  // anything left in the group
    return status;
}

}  // namespace

std::string DescribeWaitStatus(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    }
    return "ended with wait status " + std::to_string(status);
}

std::string ProcessResult::Describe() const {
    if (timed_out) return "timed out after " + std::to_string(elapsed.count()) + " ms";
    if (signal != 0) {
        return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
    }
    return "exited with status " + std::to_string(exit_code);
}

ProcessResult RunProcess(const ProcessOptions& options) {
    IgnoreSigpipeOnce();
    const Prepared prepared = Prepare(options);
    Pipe in = MakePipe();
    Pipe out = MakePipe();
    Pipe err = MakePipe();
    const auto start = Clock::now();
    const pid_t pid = Spawn(prepared, in.read.get(), out.write.get(), err.write.get());
    in.read.Close();
    out.write.Close();
    err.write.Close();
    SetNonBlocking(in.write.get());
    SetNonBlocking(out.read.get());
    SetNonBlocking(err.read.get());
    if (options.stdin_data.empty()) in.write.Close();

    ProcessResult result;
    size_t stdin_written = 0;
    std::string* sinks[2] = {&result.out, &result.err};
    Fd* sources[2] = {&out.read, &err.read};

    auto drain = [&](int i) {
        char buf[65536];
        while (sources[i]->get() >= 0) {
            const ssize_t n = ::read(sources[i]->get(), buf, sizeof buf);
            if (n > 0) {
                const size_t room =
                    options.max_output_bytes - std::min(options.max_output_bytes, sinks[i]->size());
                const size_t take = std::min(room, static_cast<size_t>(n));
                sinks[i]->append(buf, take);
                if (take < static_cast<size_t>(n)) result.output_truncated = true;
            } else if (n == 0) {
                sources[i]->Close();
            } else if (errno == EINTR) {
                continue;
            } else {
                if (errno != EAGAIN) sources[i]->Close();
                return;
            }
        }
    };

    const bool limited = options.timeout.count() > 0;
    const auto deadline = start + options.timeout;
    int status = 0;
    bool exited = false;
    while (!exited) {
        pollfd fds[3];
        nfds_t nfds = 0;
        for (int i = 0; i < 2; ++i) {
            if (sources[i]->get() >= 0) fds[nfds++] = {sources[i]->get(), POLLIN, 0};
        }
        if (in.write.get() >= 0) fds[nfds++] = {in.write.get(), POLLOUT, 0};
        int wait_ms = 20;  // also the cadence at which we look for the child's exit
        if (limited) {
            const auto left =
                std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
            wait_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(wait_ms, left)));
        }
        if (nfds > 0) {
            ::poll(fds, nfds, wait_ms);
        } else {
            std::this_thread::sleep_for(milliseconds(wait_ms));
        }
        drain(0);
        drain(1);
        if (in.write.get() >= 0) {
            const ssize_t n = ::write(in.write.get(), options.stdin_data.data() + stdin_written,
                                      options.stdin_data.size() - stdin_written);
            if (n > 0) stdin_written += static_cast<size_t>(n);
            if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
                stdin_written == options.stdin_data.size()) {
                in.write.Close();
            }
        }
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            exited = true;
            ::kill(-pid, SIGKILL);  // whatever it left behind in its group
        } else if (limited && Clock::now() >= deadline) {
            result.timed_out = true;
            status = TerminateGroup(pid, options.kill_grace);
            exited = true;
        }
    }
    drain(0);
    drain(1);
    result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (!result.timed_out) {
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    }
    return result;
}

Process Process::Start(const ProcessOptions& options, const std::string& log_path) {
    IgnoreSigpipeOnce();
    const Prepared prepared = Prepare(options);
    const char* path = log_path.empty() ? "/dev/null" : log_path.c_str();
    Fd log(::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log.get() < 0) {
        throw Unavailable(std::string("cannot open log file: ") + std::strerror(errno), log_path);
    }
    Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    Process process;
    process.pid_ = Spawn(prepared, null_in.get(), log.get(), log.get());
    return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        Stop();
        pid_ = std::exchange(other.pid_, -1);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

Process::~Process() { Stop(); }

bool Process::Running() {
    if (pid_ < 0 || status_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
        ::kill(-pid_, SIGKILL);  // whatever it left behind in its group
        return false;
    }
    return true;
}

std::optional<int> Process::WaitFor(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Running()) {
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return status_;
}

void Process::Stop(milliseconds grace) {
    if (pid_ < 0) return;
    if (Running()) status_ = TerminateGroup(pid_, grace);
    pid_ = -1;
}

}  // namespace hilnas
