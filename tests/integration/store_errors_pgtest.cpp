// Bad input gets a typed error and changes nothing: unknown and malformed ids,
// oversize artifacts, invalid values, invalid state transitions, time-outs and
// an unreachable database.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <pqxx/pqxx>

#include "hilnas/common/errors.h"
#include "hilnas/store/pg_cluster.h"
#include "hilnas/store/store.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

constexpr const char* kUnknown = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

// Runs `fn`, expects an Error of `code` naming `field` (when given).
template <typename Fn>
void ExpectError(Fn&& fn, ErrorCode code, const std::string& field = {}) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected " << ErrorCodeName(code);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        if (!field.empty()) {
            EXPECT_EQ(e.field(), field) << e.what();
        }
        // Messages are for clients: never SQL.
        EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("SELECT")));
        EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("UPDATE")));
    }
}

class ErrorsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("errors");
        store::StoreOptions options = testing::OptionsFor(dsn_);
        options.max_artifact_bytes = 1024;
        store_ = std::make_unique<store::Store>(options);
        job_ = store_->CreateJob("carol", testing::Spec({v1::OBJECTIVE_ERROR})).job_id();
        trial_ = store_->InsertTrials(job_, testing::SomeTrials(1)).at(0);
    }

    // Every row of the tables the store writes, as text: "nothing changed" is
    // this being equal before and after.
    std::string Snapshot() {
        pqxx::connection conn(dsn_);
        pqxx::nontransaction tx(conn);
        std::string out;
        for (const char* table :
             {"jobs", "trials", "trial_metrics", "trial_objectives", "measurements", "artifacts",
              "trial_leases", "job_events", "job_hypervolume", "boards", "agents"}) {
            out += std::string(table) + ":";
            for (const pqxx::row& r :
                 tx.exec(std::string("SELECT t::text FROM ") + table + " t ORDER BY 1")) {
                out += r[0].as<std::string>() + "\n";
            }
        }
        return out;
    }

    std::string dsn_;
    std::unique_ptr<store::Store> store_;
    std::string job_;
    std::string trial_;
};

TEST_F(ErrorsTest, UnknownIdsAreNotFound) {
    const std::string before = Snapshot();
    const auto nf = ErrorCode::kNotFound;
    ExpectError([&] { store_->GetJob(kUnknown); }, nf, "job_id");
    ExpectError([&] { store_->GetTrial(kUnknown); }, nf, "trial_id");
    ExpectError([&] { store_->ListTrials(kUnknown, v1::TRIAL_STATE_UNSPECIFIED, 0, ""); }, nf,
                "job_id");
    ExpectError([&] { store_->InsertTrials(kUnknown, testing::SomeTrials(1)); }, nf, "job_id");
    ExpectError([&] { store_->CancelJob(kUnknown, ""); }, nf, "job_id");
    ExpectError([&] { store_->SetJobState(kUnknown, v1::JOB_RUNNING, ""); }, nf, "job_id");
    ExpectError([&] { store_->MarkTrialInfeasible(kUnknown, "x"); }, nf, "trial_id");
    ExpectError(
        [&] { store_->RecordObjectives(kUnknown, {testing::Objective(v1::OBJECTIVE_ERROR, 0.1)}); },
        nf, "trial_id");
    ExpectError([&] { store_->RecordMetrics(kUnknown, {testing::Metric("x", 1)}); }, nf,
                "trial_id");
    ExpectError(
        [&] { store_->PutArtifact(kUnknown, testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 10)); },
        nf, "trial_id");
    ExpectError([&] { store_->GetArtifact(kUnknown); }, nf, "artifact_id");
    ExpectError([&] { store_->GetTrialArtifact(trial_, v1::ARTIFACT_INT8_MODEL); }, nf, "kind");
    ExpectError([&] { store_->GetTrialArtifact(kUnknown, v1::ARTIFACT_INT8_MODEL); }, nf,
                "trial_id");
    ExpectError([&] { store_->RenewLease("w", kUnknown); }, nf, "lease_id");
    ExpectError([&] { store_->CompleteTrial("w", kUnknown, {}); }, nf, "lease_id");
    ExpectError([&] { store_->FailTrial("w", kUnknown, {"x", true}); }, nf, "lease_id");
    ExpectError(
        [&] {
            store_->CompleteMeasurement("a", kUnknown,
                                        {testing::SomeMeasurement(), {}, std::nullopt, ""});
        },
        nf, "lease_id");
    ExpectError([&] { store_->FailMeasurement("a", kUnknown, {"x", true}); }, nf, "lease_id");
    ExpectError([&] { store_->ReadJobEvents(kUnknown, 0); }, nf, "job_id");
    ExpectError([&] { store_->GetParetoFront(kUnknown); }, nf, "job_id");
    ExpectError([&] { store_->ClaimMeasurement("ghost", "ghost/0"); }, nf, "agent_id");
    ExpectError([&] { store_->ReportBoardHealth("ghost", "ghost/0", v1::BOARD_HEALTH_BAD, ""); },
                nf, "board_id");
    ExpectError([&] { store_->RecordHypervolume(kUnknown, {1, "", 0.5, 1, {}}); }, nf, "job_id");
    store::NewTrial orphan;
    orphan.parent_trial_id = kUnknown;
    ExpectError([&] { store_->InsertTrials(job_, {orphan}); }, nf, "parent_trial_id");
    EXPECT_EQ(Snapshot(), before);
}

TEST_F(ErrorsTest, MalformedIdsAndTokensAreInvalidArguments) {
    const std::string before = Snapshot();
    const auto ia = ErrorCode::kInvalidArgument;
    ExpectError([&] { store_->GetJob("42"); }, ia, "job_id");
    ExpectError([&] { store_->GetJob(""); }, ia, "job_id");
    ExpectError([&] { store_->GetTrial("'; DROP TABLE trials; --"); }, ia, "trial_id");
    ExpectError([&] { store_->RenewLease("w", "lease"); }, ia, "lease_id");
    ExpectError([&] { store_->RenewLease("", kUnknown); }, ia, "holder_id");
    ExpectError([&] { store_->ListJobs({}, 0, "garbage"); }, ia, "page_token");
    ExpectError([&] { store_->ListJobs({}, -1, ""); }, ia, "page_size");
    ExpectError([&] { store_->ListTrials(job_, v1::TRIAL_STATE_UNSPECIFIED, 0, "abc"); }, ia,
                "page_token");
    ExpectError([&] { store_->ClaimTrial("", testing::Cpu()); }, ia, "worker_id");
    ExpectError([&] { store_->ClaimTrial("w", testing::Cpu(), std::chrono::hours(24)); }, ia,
                "lease_duration");
    EXPECT_EQ(Snapshot(), before);
}

TEST_F(ErrorsTest, APageTokenOfAnotherJobIsRefused) {
    const std::string other =
        store_->CreateJob("carol", testing::Spec({v1::OBJECTIVE_ERROR})).job_id();
    store_->InsertTrials(other, testing::SomeTrials(3));
    const std::string token =
        store_->ListTrials(other, v1::TRIAL_STATE_UNSPECIFIED, 1, "").next_page_token;
    ASSERT_FALSE(token.empty());
    ExpectError([&] { store_->ListTrials(job_, v1::TRIAL_STATE_UNSPECIFIED, 1, token); },
                ErrorCode::kInvalidArgument, "page_token");
}

TEST_F(ErrorsTest, AnOversizeArtifactIsRefusedAndNothingOfTheCompletionIsStored) {
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    const std::string before = Snapshot();
    const v1::Trial trial_before = store_->GetTrial(trial_);

    store::TrainingResult result;
    result.metrics = {testing::Metric("int8_accuracy", 0.9)};
    result.objectives = {testing::Objective(v1::OBJECTIVE_ERROR, 0.1)};
    result.artifacts = {testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 1025)};
    try {
        store_->CompleteTrial("w", lease->lease.lease_id(), result);
        FAIL() << "an oversize artifact was accepted";
    } catch (const ResourceExhausted& e) {
        EXPECT_THAT(e.what(), HasSubstr("1025 bytes"));
        EXPECT_THAT(e.what(), HasSubstr("limit of 1024 bytes"));
        EXPECT_EQ(e.field(), "artifacts[0].data");
    }
    ExpectError(
        [&] { store_->PutArtifact(trial_, testing::MakeArtifact(v1::ARTIFACT_CHECKPOINT, 4096)); },
        ErrorCode::kResourceExhausted, "artifact.data");
    EXPECT_EQ(Snapshot(), before);
    EXPECT_TRUE(MessageDifferencer::Equals(store_->GetTrial(trial_), trial_before));

    // At the limit it is fine, and the lease was kept throughout.
    result.artifacts = {testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 1024)};
    EXPECT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), result), v1::TRIAL_TRAINED);
    EXPECT_EQ(store_->GetTrialArtifact(trial_, v1::ARTIFACT_INT8_MODEL).data,
              result.artifacts[0].data());
}

TEST_F(ErrorsTest, AWrongDigestOrASecondArtifactOfAKindIsRefusedAndRolledBack) {
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    const std::string before = Snapshot();
    store::TrainingResult result;
    result.metrics = {testing::Metric("int8_accuracy", 0.9)};
    v1::Artifact model = testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 100);
    model.set_sha256(std::string(64, 'a'));
    result.artifacts = {model};
    ExpectError([&] { store_->CompleteTrial("w", lease->lease.lease_id(), result); },
                ErrorCode::kInvalidArgument, "sha256");
    model.set_sha256("ABC");
    result.artifacts = {model};
    ExpectError([&] { store_->CompleteTrial("w", lease->lease.lease_id(), result); },
                ErrorCode::kInvalidArgument, "artifacts[0].sha256");
    EXPECT_EQ(Snapshot(), before);

    model.clear_sha256();
    const v1::ArtifactRef ref = store_->PutArtifact(trial_, model);
    EXPECT_EQ(ref.size_bytes(), 100);
    EXPECT_EQ(testing::QueryValue<std::string>(
                  dsn_, "SELECT encode(sha256(data), 'hex') FROM artifacts WHERE id = $1",
                  ref.artifact_id()),
              ref.sha256());
    const std::string after_put = Snapshot();
    ExpectError([&] { store_->PutArtifact(trial_, model); }, ErrorCode::kAlreadyExists, "kind");
    EXPECT_EQ(Snapshot(), after_put);
}

TEST_F(ErrorsTest, InvalidValuesNameTheirFieldAndChangeNothing) {
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    const std::string before = Snapshot();
    const auto ia = ErrorCode::kInvalidArgument;
    const std::string id = lease->lease.lease_id();
    auto complete_with = [&](store::TrainingResult r) { store_->CompleteTrial("w", id, r); };
    ExpectError(
        [&] {
            complete_with({{testing::Metric("Bad Name", 1)}, {}, {}, {}, ""});
        },
        ia, "metrics[0].name");
    ExpectError(
        [&] {
            complete_with({{testing::Metric("nan", std::nan(""))}, {}, {}, {}, ""});
        },
        ia, "metrics[0].value");
    ExpectError(
        [&] {
            complete_with({{testing::Metric("a", 1), testing::Metric("a", 2)}, {}, {}, {}, ""});
        },
        ia, "metrics[1].name");
    ExpectError(
        [&] {
            complete_with({{}, {testing::Objective(v1::OBJECTIVE_ERROR, 1.5)}, {}, {}, ""});
        },
        ia, "objectives[0].value");
    ExpectError(
        [&] {
            complete_with({{}, {testing::Objective(v1::OBJECTIVE_FLASH_BYTES, -1)}, {}, {}, ""});
        },
        ia, "objectives[0].value");
    ExpectError(
        [&] {
            complete_with({{},
                           {testing::Objective(v1::OBJECTIVE_MACS, 1),
                            testing::Objective(v1::OBJECTIVE_MACS, 2)},
                           {},
                           {},
                           ""});
        },
        ia, "objectives[1].objective");
    ExpectError(
        [&] {
            complete_with({{}, {testing::Objective(v1::OBJECTIVE_UNSPECIFIED, 1)}, {}, {}, ""});
        },
        ia, "objectives[0].objective");
    ExpectError(
        [&] {
            complete_with(
                {{}, {}, {}, {testing::MakeArtifact(v1::ARTIFACT_KIND_UNSPECIFIED, 10)}, ""});
        },
        ia, "artifacts[0].kind");
    ExpectError(
        [&] {
            complete_with({{}, {}, {}, {testing::MakeArtifact(v1::ARTIFACT_FIRMWARE_ELF, 10)}, ""});
        },
        ia, "artifacts[0].kind");

    v1::JobSpec spec = testing::Spec({});
    ExpectError([&] { store_->CreateJob("x", spec); }, ia, "spec.objectives");
    spec = testing::Spec({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_ERROR});
    ExpectError([&] { store_->CreateJob("x", spec); }, ia, "spec.objectives[1]");
    spec = testing::Spec({v1::OBJECTIVE_ERROR});
    spec.clear_board_type();
    ExpectError([&] { store_->CreateJob("x", spec); }, ia, "spec.board_type");
    spec = testing::Spec({v1::OBJECTIVE_LATENCY_MS}, /*measure=*/false);
    ExpectError([&] { store_->CreateJob("x", spec); }, ia, "spec.objectives[0]");
    spec = testing::Spec({v1::OBJECTIVE_ERROR}, true, -1);
    ExpectError([&] { store_->CreateJob("x", spec); }, ia, "spec.budget.max_attempts");
    EXPECT_EQ(Snapshot(), before);
}

TEST_F(ErrorsTest, InvalidStateTransitionsAreFailedPreconditionsAndChangeNothing) {
    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    ASSERT_TRUE(lease);
    std::string before = Snapshot();
    const auto fp = ErrorCode::kFailedPrecondition;
    // Only a pending trial can be found infeasible before training.
    ExpectError([&] { store_->MarkTrialInfeasible(trial_, "too big"); }, fp);
    // A job that has not run cannot complete; PENDING -> COMPLETED is not a transition.
    ExpectError([&] { store_->SetJobState(job_, v1::JOB_COMPLETED, ""); }, fp);
    ExpectError([&] { store_->SetJobState(job_, v1::JOB_CANCELLED, ""); },
                ErrorCode::kInvalidArgument, "state");
    // A measurement lease call with a training lease.
    ExpectError([&] { store_->FailMeasurement("w", lease->lease.lease_id(), {"x", true}); }, fp);
    EXPECT_EQ(Snapshot(), before);

    store_->SetJobState(job_, v1::JOB_RUNNING, "");
    store_->CompleteTrial("w", lease->lease.lease_id(), {});
    store_->SetJobState(job_, v1::JOB_COMPLETED, "done");
    before = Snapshot();
    ExpectError([&] { store_->SetJobState(job_, v1::JOB_RUNNING, ""); }, fp);
    ExpectError([&] { store_->SetJobState(job_, v1::JOB_FAILED, "late"); }, fp);
    ExpectError([&] { store_->CancelJob(job_, ""); }, fp);
    ExpectError([&] { store_->InsertTrials(job_, testing::SomeTrials(1)); }, fp);
    EXPECT_EQ(Snapshot(), before);
    EXPECT_EQ(store_->GetJob(job_).state(), v1::JOB_COMPLETED);
}

TEST_F(ErrorsTest, TheDatabaseItselfRefusesAnInvalidTransition) {
    const std::string before = Snapshot();
    pqxx::connection conn(dsn_);
    pqxx::work tx(conn);
    try {
        tx.exec_params("UPDATE trials SET state = 'complete' WHERE id = $1", trial_);
        FAIL() << "pending -> complete was allowed";
    } catch (const pqxx::sql_error& e) {
        EXPECT_EQ(e.sqlstate(), "HN001");
        EXPECT_THAT(e.what(), HasSubstr("cannot go from pending to complete"));
    }
    tx.abort();
    EXPECT_EQ(Snapshot(), before);
}

TEST_F(ErrorsTest, ARequestIdNamesOneSpec) {
    const v1::JobSpec spec = testing::Spec({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_MACS});
    const v1::Job first = store_->CreateJob("dave", spec, "req-1");
    EXPECT_EQ(store_->CreateJob("dave", spec, "req-1").job_id(), first.job_id());
    // Another owner's request ids are theirs.
    EXPECT_NE(store_->CreateJob("erin", spec, "req-1").job_id(), first.job_id());
    v1::JobSpec other = spec;
    other.set_seed(99);
    const std::string before = Snapshot();
    ExpectError([&] { store_->CreateJob("dave", other, "req-1"); }, ErrorCode::kAlreadyExists,
                "request_id");
    EXPECT_EQ(Snapshot(), before);
}

TEST_F(ErrorsTest, AStatementPastItsTimeoutIsDeadlineExceededAndRolledBack) {
    store::StoreOptions options = testing::OptionsFor(dsn_);
    options.statement_timeout = std::chrono::milliseconds(200);
    store::Store impatient(options);
    const std::string before = Snapshot();
    // Another session holds the job's row; the cancel waits for it past its timeout.
    pqxx::connection holder(dsn_);
    pqxx::work hold(holder);
    hold.exec_params("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_);
    ExpectError([&] { impatient.CancelJob(job_, "in a hurry"); }, ErrorCode::kDeadlineExceeded);
    hold.abort();
    EXPECT_EQ(Snapshot(), before);
    // The pooled connection is still usable afterwards.
    EXPECT_EQ(impatient.GetJob(job_).state(), v1::JOB_PENDING);
}

TEST_F(ErrorsTest, ADatabaseWithoutTheSchemaIsAFailedPrecondition) {
    store::StoreOptions options = testing::OptionsFor(testing::FreshDatabase("bare"));
    store::Store bare(options);
    try {
        bare.GetJob(kUnknown);
        FAIL() << "no error";
    } catch (const FailedPrecondition& e) {
        EXPECT_THAT(e.what(), HasSubstr("hilnas-controller migrate"));
    }
}

TEST_F(ErrorsTest, AnUnreachableDatabaseIsUnavailable) {
    store::StoreOptions options;
    options.dsn = "host=127.0.0.1 port=" + std::to_string(store::FreeLoopbackPort()) +
                  " dbname=x user=x connect_timeout=2";
    options.pool_wait = std::chrono::milliseconds(100);
    store::Store nowhere(options);
    ExpectError([&] { nowhere.GetJob(kUnknown); }, ErrorCode::kUnavailable);
    ExpectError([&] { nowhere.ClaimTrial("w", testing::Cpu()); }, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace hilnas
