#include "hilnas/common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hilnas/common/errors.h"
#include "hilnas/testing/temp_dir.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;

ConfigSchema Schema() {
    ConfigSchema schema;
    schema.Add({"listen", OptionType::kString, "127.0.0.1:50051", "address"})
        .Add({"workers", OptionType::kInt, "4", "workers"})
        .Add({"ratio", OptionType::kDouble, "0.5", "ratio"})
        .Add({"verbose", OptionType::kBool, "false", "verbose"})
        .Add({"lease.duration", OptionType::kDuration, "30s", "lease"})
        .Add({"auth.user_tokens", OptionType::kStringList, "", "tokens", true})
        .Add({"log.format", OptionType::kString, "text", "format"});
    return schema;
}

// The message of the InvalidArgument that `fn` throws.
template <typename Fn>
std::string ErrorOf(Fn&& fn) {
    try {
        fn();
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Config, DefaultsApplyWhenNothingElseIsGiven) {
    const Config c = Config::Load(Schema(), {}, {});
    EXPECT_EQ(c.GetString("listen"), "127.0.0.1:50051");
    EXPECT_EQ(c.GetInt("workers"), 4);
    EXPECT_DOUBLE_EQ(c.GetDouble("ratio"), 0.5);
    EXPECT_FALSE(c.GetBool("verbose"));
    EXPECT_EQ(c.GetDuration("lease.duration"), std::chrono::seconds(30));
    EXPECT_TRUE(c.GetStringList("auth.user_tokens").empty());
    EXPECT_EQ(c.SourceOf("workers"), Config::Source::kDefault);
}

TEST(Config, FileThenEnvironmentThenFlagsOverride) {
    testing::TempDir dir;
    const std::string file = dir.Write("c.yaml",
                                       "workers: 8\n"
                                       "ratio: 0.25\n"
                                       "log:\n  format: json\n"
                                       "lease.duration: 2m\n"
                                       "auth:\n  user_tokens: [alpha, beta]\n");
    const Environment env = {{"HILNAS_RATIO", "0.75"}, {"HILNAS_LOG_FORMAT", "text"}};
    const Config c =
        Config::Load(Schema(), {"--config", file, "--log-format=json", "--verbose"}, env);
    EXPECT_EQ(c.GetInt("workers"), 8);
    EXPECT_EQ(c.SourceOf("workers"), Config::Source::kFile);
    EXPECT_DOUBLE_EQ(c.GetDouble("ratio"), 0.75);
    EXPECT_EQ(c.SourceOf("ratio"), Config::Source::kEnvironment);
    EXPECT_EQ(c.GetString("log.format"), "json");
    EXPECT_EQ(c.SourceOf("log.format"), Config::Source::kFlag);
    EXPECT_TRUE(c.GetBool("verbose"));
    EXPECT_EQ(c.GetDuration("lease.duration"), std::chrono::minutes(2));
    EXPECT_EQ(c.GetStringList("auth.user_tokens"), (std::vector<std::string>{"alpha", "beta"}));
}

TEST(Config, ConfigFileFromEnvironment) {
    testing::TempDir dir;
    const std::string file = dir.Write("c.yaml", "workers: 16\n");
    const Config c = Config::Load(Schema(), {}, {{"HILNAS_CONFIG", file}});
    EXPECT_EQ(c.GetInt("workers"), 16);
    EXPECT_EQ(c.config_file(), file);
}

TEST(Config, UnknownKeyInFileIsRejectedByName) {
    testing::TempDir dir;
    const std::string file = dir.Write("c.yaml", "log:\n  formt: json\n");
    const std::string error = ErrorOf([&] { Config::Load(Schema(), {"--config", file}, {}); });
    EXPECT_THAT(error, HasSubstr("unknown key 'log.formt'"));
    EXPECT_THAT(error, HasSubstr(file));
}

TEST(Config, UnknownFlagIsRejectedByName) {
    EXPECT_THAT(ErrorOf([] {
                    Config::Load(Schema(), {"--wrokers", "3"}, {});
                }),
                HasSubstr("--wrokers: unknown flag"));
}

TEST(Config, BadValuesNameTheirSource) {
    EXPECT_THAT(ErrorOf([] { Config::Load(Schema(), {"--workers=many"}, {}); }),
                HasSubstr("--workers: must be an integer, not 'many'"));
    EXPECT_THAT(ErrorOf([] {
                    Config::Load(Schema(), {}, {{"HILNAS_VERBOSE", "maybe"}});
                }),
                HasSubstr("HILNAS_VERBOSE: must be true or false"));
    testing::TempDir dir;
    const std::string file = dir.Write("c.yaml", "lease:\n  duration: 5 fortnights\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", file}, {});
                }),
                HasSubstr("lease.duration"));
    const std::string list_for_scalar = dir.Write("d.yaml", "workers: [1, 2]\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", list_for_scalar}, {});
                }),
                HasSubstr("must be a single value"));
}

TEST(Config, MissingOrMalformedFileIsAClearError) {
    EXPECT_THAT(ErrorOf([] {
                    Config::Load(Schema(), {"--config", "/nonexistent/c.yaml"}, {});
                }),
                HasSubstr("/nonexistent/c.yaml: cannot read the file"));
    testing::TempDir dir;
    const std::string bad = dir.Write("bad.yaml", "workers: [1, 2\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", bad}, {});
                }),
                HasSubstr("not valid YAML"));
    const std::string scalar = dir.Write("scalar.yaml", "just a string\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", scalar}, {});
                }),
                HasSubstr("must be a map of options"));
}

// Found by tests/fuzz/fuzz_config: a key that is a map or a list escaped as
// YAML::TypedBadConversion instead of an InvalidArgument.
TEST(Config, AKeyThatIsNotANameIsAClearError) {
    testing::TempDir dir;
    const std::string map_key = dir.Write("m.yaml", "? {a: 1}\n: 2\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", map_key}, {});
                }),
                HasSubstr(map_key + ": a key must be a name"));
    const std::string nested = dir.Write("n.yaml", "log:\n  ? [a, b]\n  : json\n");
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(Schema(), {"--config", nested}, {});
                }),
                HasSubstr(nested + ": log: a key must be a name"));
}

// Found by tests/fuzz/fuzz_config: a number beyond a double's range, and NaN,
// were accepted (and converting them to milliseconds was undefined).
TEST(Config, NonFiniteOrHugeNumbersAreRefused) {
    EXPECT_THAT(ErrorOf([] { ParseDuration("22221e98", "lease"); }),
                HasSubstr("lease: must be at most 1000000h"));
    EXPECT_THROW(ParseDuration("1e300s", "x"), InvalidArgument);
    EXPECT_THROW(ParseDuration("infs", "x"), InvalidArgument);
    EXPECT_THROW(ParseDuration("nan", "x"), InvalidArgument);
    EXPECT_EQ(ParseDuration("1000000h", "x"), std::chrono::hours(1000000));
    EXPECT_THAT(ErrorOf([] { Config::Load(Schema(), {"--ratio=nan"}, {}); }),
                HasSubstr("--ratio: must be a finite number, not 'nan'"));
    EXPECT_THROW(Config::Load(Schema(), {"--ratio=-inf"}, {}), InvalidArgument);
}

TEST(Config, FlagWithoutValueIsAnError) {
    EXPECT_THAT(ErrorOf([] { Config::Load(Schema(), {"--listen"}, {}); }),
                HasSubstr("--listen: needs a value"));
}

TEST(Config, OneLetterKeysTakeOneDash) {
    ConfigSchema schema;
    schema.Add({"o", OptionType::kString, "", "output"});
    const Config c = Config::Load(schema, {"in.bin", "-o", "out", "-", "-5"}, {});
    EXPECT_EQ(c.GetString("o"), "out");
    EXPECT_EQ(c.positional(), (std::vector<std::string>{"in.bin", "-", "-5"}));
    EXPECT_THAT(ErrorOf([&] {
                    Config::Load(schema, {"-x", "1"}, {});
                }),
                HasSubstr("-x: unknown flag"));
}

TEST(Config, PositionalArgumentsAndHelp) {
    const Config c =
        Config::Load(Schema(), {"model.json", "--workers", "2", "--", "--not-a-flag"}, {});
    EXPECT_EQ(c.positional(), (std::vector<std::string>{"model.json", "--not-a-flag"}));
    EXPECT_EQ(c.GetInt("workers"), 2);
    EXPECT_FALSE(c.help_requested());
    EXPECT_TRUE(Config::Load(Schema(), {"--help"}, {}).help_requested());
    EXPECT_THAT(Schema().Help(), HasSubstr("--lease.duration duration"));
    EXPECT_THAT(Schema().Help(), HasSubstr("HILNAS_LEASE_DURATION"));
}

TEST(Config, DescribeRedactsSecrets) {
    const Config c = Config::Load(Schema(), {"--auth.user_tokens=s3cret,other"}, {});
    const std::string text = c.Describe();
    EXPECT_THAT(text, HasSubstr("auth.user_tokens=<redacted> (flag)"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("s3cret")));
    EXPECT_THAT(text, HasSubstr("workers=4 (default)"));
}

TEST(Config, DurationsParseUnits) {
    EXPECT_EQ(ParseDuration("250ms", "x"), std::chrono::milliseconds(250));
    EXPECT_EQ(ParseDuration("1.5s", "x"), std::chrono::milliseconds(1500));
    EXPECT_EQ(ParseDuration("3", "x"), std::chrono::seconds(3));
    EXPECT_EQ(ParseDuration("2h", "x"), std::chrono::hours(2));
    EXPECT_THROW(ParseDuration("-1s", "x"), InvalidArgument);
    EXPECT_THROW(ParseDuration("s", "x"), InvalidArgument);
    EXPECT_THROW(ParseDuration("10 days", "x"), InvalidArgument);
}

TEST(Config, SchemaRejectsCollidingOrMalformedKeys) {
    ConfigSchema schema;
    schema.Add({"log.format", OptionType::kString, "", ""});
    EXPECT_THROW(schema.Add({"log_format", OptionType::kString, "", ""}), std::logic_error);
    EXPECT_THROW(schema.Add({"Log-Level", OptionType::kString, "", ""}), std::logic_error);
    EXPECT_THROW(schema.Add({"config", OptionType::kString, "", ""}), std::logic_error);
}

TEST(Config, ReadingAnUndeclaredOrMistypedOptionIsAProgrammingError) {
    const Config c = Config::Load(Schema(), {}, {});
    EXPECT_THROW(c.GetString("nope"), std::logic_error);
    EXPECT_THROW(c.GetInt("listen"), std::logic_error);
}

}  // namespace
}  // namespace hilnas
