// Jobs and trials as the controller and dashboards read them: creation with
// the spec kept whole, paging, filters, trial counts, artifacts and metrics.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <set>

#include "hilnas/common/errors.h"
#include "hilnas/store/store.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using google::protobuf::util::MessageDifferencer;

class JobsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("jobs");
        store_ = std::make_unique<store::Store>(testing::OptionsFor(dsn_));
    }
    std::string dsn_;
    std::unique_ptr<store::Store> store_;
};

TEST_F(JobsTest, AJobKeepsItsWholeSpecAndQueryableColumns) {
    v1::JobSpec spec =
        testing::Spec({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_SRAM_BYTES, v1::OBJECTIVE_LATENCY_MS},
                      true, 5, "cifar10", "nucleo-f746zg");
    spec.set_seed(18446744073709551615ULL);
    spec.add_reference_point(1.0);
    spec.mutable_search_space()->mutable_channels()->set_max(64);
    const v1::Job job = store_->CreateJob("alice", spec);
    EXPECT_EQ(job.owner(), "alice");
    EXPECT_EQ(job.state(), v1::JOB_PENDING);
    EXPECT_TRUE(job.has_created_at());
    EXPECT_FALSE(job.has_started_at());
    EXPECT_TRUE(MessageDifferencer::Equals(job.spec(), spec));
    EXPECT_TRUE(MessageDifferencer::Equals(store_->GetJob(job.job_id()), job));

    EXPECT_EQ(testing::QueryValue<std::string>(
                  dsn_,
                  "SELECT dataset || '/' || board_type || '/' || array_to_string(objectives, ',') "
                  "|| '/' || max_attempts || '/' || measure FROM jobs WHERE id = $1",
                  job.job_id()),
              "cifar10/nucleo-f746zg/error,sram_bytes,latency_ms/5/true");
    // The spec is JSONB with the proto's field names: dashboards can query into it.
    EXPECT_EQ(
        testing::QueryValue<int>(dsn_,
                                 "SELECT (spec->'search_space'->'channels'->>'max')::int FROM jobs "
                                 "WHERE id = $1",
                                 job.job_id()),
        64);

    const v1::Job running = store_->SetJobState(job.job_id(), v1::JOB_RUNNING, "runner up");
    EXPECT_EQ(running.state(), v1::JOB_RUNNING);
    EXPECT_TRUE(running.has_started_at());
    const v1::Job failed = store_->SetJobState(job.job_id(), v1::JOB_FAILED, "dataset missing");
    EXPECT_EQ(failed.error(), "dataset missing");
    EXPECT_TRUE(failed.has_finished_at());
}

TEST_F(JobsTest, ListJobsPagesNewestFirstWithFilters) {
    std::vector<std::string> created;
    for (int i = 0; i < 7; ++i) {
        created.push_back(
            store_->CreateJob(i % 2 == 0 ? "even" : "odd", testing::Spec({v1::OBJECTIVE_ERROR}))
                .job_id());
    }
    store_->SetJobState(created[6], v1::JOB_RUNNING, "");

    std::vector<std::string> listed;
    std::string token;
    int pages = 0;
    do {
        const store::JobPage page = store_->ListJobs({}, 3, token);
        for (const v1::Job& j : page.jobs) listed.push_back(j.job_id());
        token = page.next_page_token;
        ++pages;
    } while (!token.empty());
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(listed, std::vector<std::string>(created.rbegin(), created.rend()));

    const store::JobPage odd = store_->ListJobs({v1::JOB_STATE_UNSPECIFIED, "odd"}, 0, "");
    EXPECT_EQ(odd.jobs.size(), 3u);
    EXPECT_TRUE(odd.next_page_token.empty());
    for (const v1::Job& j : odd.jobs) EXPECT_EQ(j.owner(), "odd");
    const store::JobPage running = store_->ListJobs({v1::JOB_RUNNING, ""}, 0, "");
    ASSERT_EQ(running.jobs.size(), 1u);
    EXPECT_EQ(running.jobs[0].job_id(), created[6]);
}

TEST_F(JobsTest, TrialsAreNumberedPagedAndCounted) {
    const std::string job = store_->CreateJob("a", testing::Spec({v1::OBJECTIVE_ERROR})).job_id();
    const std::vector<std::string> first = store_->InsertTrials(job, testing::SomeTrials(5));
    const std::vector<std::string> second = store_->InsertTrials(job, testing::SomeTrials(4));
    std::vector<std::string> all = first;
    all.insert(all.end(), second.begin(), second.end());

    std::vector<int> numbers;
    std::vector<std::string> ids;
    std::string token;
    do {
        const store::TrialPage page =
            store_->ListTrials(job, v1::TRIAL_STATE_UNSPECIFIED, 4, token);
        for (const v1::Trial& t : page.trials) {
            numbers.push_back(t.number());
            ids.push_back(t.trial_id());
            EXPECT_EQ(t.job_id(), job);
        }
        token = page.next_page_token;
    } while (!token.empty());
    EXPECT_EQ(numbers, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_EQ(ids, all);
    EXPECT_TRUE(MessageDifferencer::Equals(store_->GetTrial(all[6]).candidate(),
                                           testing::SomeCandidate(1)));

    const auto lease = store_->ClaimTrial("w", testing::Cpu());
    store_->MarkTrialInfeasible(
        store_->ListTrials(job, v1::TRIAL_PENDING, 1, "").trials.at(0).trial_id(), "too big");
    const v1::Job counted = store_->GetJob(job);
    EXPECT_EQ(counted.trials().pending(), 7);
    EXPECT_EQ(counted.trials().training(), 1);
    EXPECT_EQ(counted.trials().infeasible(), 1);
    EXPECT_EQ(store_->ListTrials(job, v1::TRIAL_TRAINING, 0, "").trials.at(0).trial_id(),
              lease->lease.trial_id());
}

TEST_F(JobsTest, MetricsObjectivesAndArtifactsRoundTrip) {
    const std::string job = store_->CreateJob("a", testing::Spec({v1::OBJECTIVE_MACS})).job_id();
    const std::string trial = store_->InsertTrials(job, testing::SomeTrials(1)).at(0);
    store_->RecordMetrics(trial,
                          {testing::Metric("sparsity", 0.5), testing::Metric("params", 1e5)});
    store_->RecordMetrics(trial, {testing::Metric("sparsity", 0.625)});  // upsert
    store_->RecordObjectives(
        trial, {testing::Objective(v1::OBJECTIVE_MACS, 1234567, v1::METRIC_SOURCE_COMPUTED)});
    const v1::Artifact model = testing::MakeArtifact(v1::ARTIFACT_INT8_MODEL, 1000, 5);
    const v1::ArtifactRef ref = store_->PutArtifact(trial, model);
    EXPECT_EQ(ref.sha256().size(), 64u);

    const v1::Trial t = store_->GetTrial(trial);
    ASSERT_EQ(t.metrics_size(), 2);
    EXPECT_EQ(t.metrics(0).name(), "params");
    EXPECT_EQ(t.metrics(1).name(), "sparsity");
    EXPECT_EQ(t.metrics(1).value(), 0.625);
    ASSERT_EQ(t.objectives_size(), 1);
    EXPECT_EQ(t.objectives(0).value(), 1234567);
    EXPECT_EQ(t.objectives(0).source(), v1::METRIC_SOURCE_COMPUTED);
    ASSERT_EQ(t.artifacts_size(), 1);
    EXPECT_TRUE(MessageDifferencer::Equals(t.artifacts(0), ref));

    const store::StoredArtifact back = store_->GetArtifact(ref.artifact_id());
    EXPECT_EQ(back.data, model.data());  // bytes including NULs
    EXPECT_EQ(store_->GetTrialArtifact(trial, v1::ARTIFACT_INT8_MODEL).ref.artifact_id(),
              ref.artifact_id());
    EXPECT_EQ(testing::QueryValue<double>(
                  dsn_, "SELECT macs FROM v_trial_objectives WHERE trial_id = $1", trial),
              1234567);
}

TEST_F(JobsTest, HypervolumeRowsAreReadableFromTheView) {
    const std::string job = store_->CreateJob("a", testing::Spec({v1::OBJECTIVE_ERROR})).job_id();
    const std::vector<std::string> trials = store_->InsertTrials(job, testing::SomeTrials(2));
    const std::vector<double> hv = {0.5, 0.8};
    store_->RecordHypervolume(job, {1, trials[0], hv[0], 1, {1.0}});
    store_->RecordHypervolume(job, {2, trials[1], hv[1], 2, {1.0}});

    pqxx::connection conn(dsn_);
    pqxx::nontransaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT completed_trials, hypervolume, improvement, trial_number, front_size "
        "FROM v_job_hypervolume WHERE job_id = $1 ORDER BY completed_trials",
        job);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][0].as<int>(), 1);
    EXPECT_EQ(rows[0][1].as<double>(), hv[0]);
    EXPECT_TRUE(rows[0][2].is_null());
    EXPECT_EQ(rows[0][3].as<int>(), 1);
    EXPECT_EQ(rows[1][1].as<double>(), hv[1]);
    EXPECT_EQ(rows[1][2].as<double>(), hv[1] - hv[0]);
    EXPECT_EQ(rows[1][3].as<int>(), 2);
    EXPECT_EQ(rows[1][4].as<int>(), 2);

    const v1::ParetoFront front = store_->GetParetoFront(job);
    EXPECT_EQ(front.hypervolume(), hv[1]);
    ASSERT_EQ(front.reference_point_size(), 1);
    EXPECT_EQ(front.reference_point(0), 1.0);
    EXPECT_THROW(store_->RecordHypervolume(job, {3, "", -1, 0, {}}), InvalidArgument);
}

}  // namespace
}  // namespace hilnas
