#include "hilnas/common/subprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "hilnas/common/errors.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

ProcessOptions Shell(const std::string& script) {
    ProcessOptions options;
    options.argv = {"/bin/sh", "-c", script};
    return options;
}

// True once `pid` no longer exists (or is a zombie nobody reaps: it cannot run).
// Waits a bounded while: signal delivery is asynchronous.
bool IsGone(pid_t pid) {
    for (int i = 0; i < 1000; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string pid_field, comm, state;
        if (!(stat >> pid_field >> comm >> state) || state == "Z") return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

pid_t FirstLineAsPid(const std::string& out) {
    const pid_t pid = static_cast<pid_t>(std::atoi(out.c_str()));
    if (pid <= 1) ADD_FAILURE() << "the child printed no pid: '" << out << "'";
    return pid;
}

TEST(RunProcess, CapturesOutputAndExitStatus) {
    const ProcessResult r = RunProcess(Shell("echo out; echo err >&2; exit 3"));
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.Describe(), "exited with status 3");
}

TEST(RunProcess, PassesStdinEnvironmentAndDirectory) {
    // More than a pipe buffer each way, so reading and writing must interleave.
    std::string input;
    for (int i = 0; i < 200000; ++i) input += static_cast<char>('a' + i % 26);
    ProcessOptions cat;
    cat.argv = {"cat"};
    cat.stdin_data = input;
    const ProcessResult r = RunProcess(cat);
    ASSERT_TRUE(r.ok()) << r.Describe();
    EXPECT_EQ(r.out, input);

    testing::TempDir dir;
    ProcessOptions env = Shell("printf '%s ' \"$HILNAS_TEST_VALUE\"; pwd");
    env.env = {{"HILNAS_TEST_VALUE", "forty two"}};
    env.cwd = dir.path().string();
    const ProcessResult e = RunProcess(env);
    EXPECT_EQ(e.out, "forty two " + std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(RunProcess, KillsAChildThatOutlivesItsTimeout) {
    ProcessOptions options = Shell("echo $$; exec sleep 60");
    options.timeout = 1500ms;
    const ProcessResult r = RunProcess(options);
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(r.Describe(), HasSubstr("timed out after"));
    EXPECT_TRUE(IsGone(FirstLineAsPid(r.out)));
}

TEST(RunProcess, KillsWhatTheChildStartedToo) {
    ProcessOptions options = Shell("sleep 60 & echo $!; wait");
    options.timeout = 1500ms;
    const ProcessResult r = RunProcess(options);
    EXPECT_TRUE(r.timed_out);
    EXPECT_TRUE(IsGone(FirstLineAsPid(r.out)));
}

TEST(RunProcess, EscalatesToSigkillWhenSigtermIsIgnored) {
    ProcessOptions options = Shell("trap '' TERM; echo $$; while :; do sleep 0.05; done");
    options.timeout = 1500ms;
    options.kill_grace = 300ms;
    const ProcessResult r = RunProcess(options);
    EXPECT_TRUE(r.timed_out);
    EXPECT_TRUE(IsGone(FirstLineAsPid(r.out)));
}

TEST(RunProcess, KillsLeftoversOfAChildThatExited) {
    // The background sleep keeps stdout open; RunProcess must neither hang on it
    // nor leave it running.
    const ProcessResult r = RunProcess(Shell("sleep 60 & echo $!"));
    EXPECT_TRUE(r.ok()) << r.Describe();
    EXPECT_TRUE(IsGone(FirstLineAsPid(r.out)));
}

TEST(RunProcess, ReportsTheSignalThatEndedTheChild) {
    const ProcessResult r = RunProcess(Shell("kill -KILL $$"));
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_THAT(r.Describe(), HasSubstr("killed by signal 9"));
}

TEST(RunProcess, CapsCapturedOutput) {
    ProcessOptions options = Shell("head -c 100000 /dev/zero");
    options.max_output_bytes = 1000;
    const ProcessResult r = RunProcess(options);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.out.size(), 1000u);
    EXPECT_TRUE(r.output_truncated);
}

TEST(RunProcess, AProgramThatCannotRunIsAnError) {
    ProcessOptions missing;
    missing.argv = {"/nonexistent/hilnas-tool", "--flag"};
    try {
        RunProcess(missing);
        FAIL() << "expected Unavailable";
    } catch (const Unavailable& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot run '/nonexistent/hilnas-tool'"));
        EXPECT_THAT(e.what(), HasSubstr("No such file"));
    }
    ProcessOptions bad_dir = Shell("true");
    bad_dir.cwd = "/nonexistent/dir";
    EXPECT_THROW(RunProcess(bad_dir), Unavailable);
    EXPECT_THROW(RunProcess(ProcessOptions{}), InvalidArgument);
}

TEST(Process, RunsInTheBackgroundAndStops) {
    testing::TempDir dir;
    const std::string log = dir / "log.txt";
    Process p = Process::Start(Shell("echo started; exec sleep 60"), log);
    EXPECT_TRUE(p.Running());
    EXPECT_FALSE(p.WaitFor(100ms).has_value());
    const pid_t pid = p.pid();
    p.Stop(2s);
    EXPECT_FALSE(p.Running());
    ASSERT_TRUE(p.status().has_value());
    EXPECT_TRUE(WIFSIGNALED(*p.status()));
    EXPECT_TRUE(IsGone(pid));
    std::ifstream in(log);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "started");
}

TEST(Process, ReportsItsExitStatus) {
    Process p = Process::Start(Shell("exit 4"));
    const auto status = p.WaitFor(30s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(DescribeWaitStatus(*status), "exited with status 4");
    EXPECT_FALSE(p.Running());
}

}  // namespace
}  // namespace hilnas
