#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/rpc/status.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Runs `fn` with stderr sent to a file; returns what was written.
template <typename Fn>
std::string CaptureStderr(Fn&& fn) {
    testing::TempDir dir;
    const std::string path = dir / "stderr";
    const int saved = ::dup(2);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::close(fd);
    fn();
    ::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(Logging, JsonLinesAreOneEscapedObjectPerLine) {
    const std::string out = CaptureStderr([] {
        InitLogging("unit", LogOptions{LogFormat::kJson, spdlog::level::info});
        spdlog::info("quote \" backslash \\ newline \n tab \t bell \x07 done");
        spdlog::debug("not shown at info");
        spdlog::default_logger()->flush();
    });
    ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    const auto line = nlohmann::json::parse(out);  // throws unless valid JSON
    EXPECT_EQ(line.at("msg"), "quote \" backslash \\ newline \n tab \t bell \x07 done");
    EXPECT_EQ(line.at("level"), "info");
    EXPECT_EQ(line.at("logger"), "unit");
    EXPECT_TRUE(line.at("thread").is_number_integer());
    EXPECT_THAT(line.at("ts").get<std::string>(),
                MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z"));
}

TEST(Logging, TextFormatByDefault) {
    const std::string out = CaptureStderr([] {
        InitLogging("unit", LogOptions{});
        spdlog::warn("careful");
        spdlog::default_logger()->flush();
    });
    EXPECT_THAT(out, HasSubstr("warning unit: careful"));
}

TEST(Logging, TextLinesCannotBeForgedByInput) {
    // A job name with a newline once wrote a second, forged line into the text log.
    const std::string out = CaptureStderr([] {
        InitLogging("unit", LogOptions{});
        spdlog::info("job '{}' submitted", "x\n2026-01-01 00:00:00.000 error unit: forged\x1b[2J");
        spdlog::default_logger()->flush();
    });
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_THAT(out, HasSubstr("job 'x\\n2026-01-01 00:00:00.000 error unit: forged\\x1b[2J' "
                               "submitted"));
    EXPECT_EQ(EscapeForLog("tab\there\r\x7f"), "tab\\there\\r\\x7f");
    EXPECT_EQ(EscapeForLog("plain \xc3\xa9t\xc3\xa9"), "plain \xc3\xa9t\xc3\xa9");  // UTF-8 kept
}

TEST(Logging, FormatAndLevelAreValidated) {
    EXPECT_EQ(ParseLogFormat("json"), LogFormat::kJson);
    EXPECT_EQ(ParseLogLevel("debug"), spdlog::level::debug);
    EXPECT_THROW(ParseLogFormat("xml"), InvalidArgument);
    try {
        ParseLogLevel("loud");
        FAIL();
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), "log.level");
        EXPECT_THAT(e.what(), HasSubstr("not 'loud'"));
    }
}

TEST(Errors, CarryCodeFieldAndFault) {
    const InvalidArgument e("must be >= min", "search_space.blocks.max");
    EXPECT_STREQ(e.what(), "search_space.blocks.max: must be >= min");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(IsCallersFault(e.code()));
    EXPECT_FALSE(IsCallersFault(Unavailable("db down").code()));
    EXPECT_STREQ(ErrorCodeName(ErrorCode::kFailedPrecondition), "FAILED_PRECONDITION");
}

TEST(Errors, MapToCanonicalStatusesWithoutLeakingInternals) {
    const grpc::Status s = rpc::ToStatus(NotFound("no such job 'j-1'", "job_id"));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "job_id: no such job 'j-1'");
    const grpc::Status guarded = rpc::Guard("Test", []() -> grpc::Status {
        throw std::runtime_error("ERROR: relation \"jobs\" does not exist at character 15");
    });
    EXPECT_EQ(guarded.error_code(), grpc::StatusCode::INTERNAL);
    EXPECT_THAT(guarded.error_message(), ::testing::Not(HasSubstr("relation")));
    const grpc::Status ok = rpc::Guard("Test", [] { return grpc::Status::OK; });
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(rpc::DescribeStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")),
              "UNAVAILABLE: down");
}

}  // namespace
}  // namespace hilnas
