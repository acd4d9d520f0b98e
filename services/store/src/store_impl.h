// Store's internals, shared by its source files.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "connection_pool.h"
#include "hilnas/common/errors.h"
#include "hilnas/store/store.h"
#include "pg_util.h"
#include "queries.h"

namespace hilnas::store {

template <typename... Args>
pqxx::result Exec(pqxx::work& tx, const sql::Query& query, Args&&... args) {
    return tx.exec_prepared(query.name, std::forward<Args>(args)...);
}

class Store::Impl {
  public:
    explicit Impl(StoreOptions options);

    // Runs fn(tx) in one transaction with the statement timeout set, commits,
    // and returns what fn returns. Serialization failures, deadlocks and
    // connections found broken are retried a few times; every other error is
    // rethrown as a hilnas::Error and the transaction is rolled back.
    template <typename Fn>
    auto Transact(std::string_view operation, Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::work&> {
        using Result = std::invoke_result_t<Fn&, pqxx::work&>;
        constexpr int kTries = 3;
        for (int attempt = 1;; ++attempt) {
            ConnectionPool::Handle conn = pool_.Acquire();
            try {
                pqxx::work tx(*conn);
                Exec(tx, sql::kSetStatementTimeout, statement_timeout_);
                if constexpr (std::is_void_v<Result>) {
                    fn(tx);
                    tx.commit();
                    return;
                } else {
                    Result result = fn(tx);
                    tx.commit();
                    return result;
                }
            } catch (const pqxx::broken_connection& e) {
                conn.Discard();
                if (attempt < kTries) {
                    spdlog::debug("{}: connection broken, retrying: {}", operation, e.what());
                    continue;
                }
                RethrowAsError(operation);
            } catch (const Error&) {
                throw;
            } catch (const std::exception& e) {
                if (IsRetryable(e) && attempt < kTries) {
                    spdlog::debug("{}: retrying after {}", operation, e.what());
                    continue;
                }
                RethrowAsError(operation);
            }
        }
    }

    // `lease` or the default; InvalidArgument outside (0, max_lease].
    int64_t LeaseMillis(std::chrono::milliseconds lease) const;

    const StoreOptions options;

  private:
    ConnectionPool pool_;
    const std::string statement_timeout_;
};

// ---- Loading rows as messages (in the caller's transaction) ----
std::vector<v1::Job> LoadJobs(pqxx::work& tx, const std::vector<std::string>& ids);
std::vector<v1::Trial> LoadTrials(pqxx::work& tx, const std::vector<std::string>& ids);

// ---- Leases ----

struct HeldLease {
    std::string lease_id;
    std::string trial_id;
    std::string job_id;
    std::string holder;
    std::string trial_state;  // training or measuring
    std::string job_state;
    int attempts = 0;
    int max_attempts = 0;
    bool measure = true;
    std::string board_id;
    int number = 0;

    bool job_active() const { return job_state == "pending" || job_state == "running"; }
};

// Locks the trial under `lease_id` and checks that `holder` holds it (for the
// given kind, or either when kind is nullptr). NotFound for a lease never
// issued; FailedPrecondition for one that has ended or another holder's.
HeldLease LockLease(pqxx::work& tx, const std::string& holder, const std::string& lease_id,
                    const LeaseKind* kind);

// Ends the lease: the trial moves to `state`. Returns the trial's new state.
v1::TrialState EndLease(pqxx::work& tx, const HeldLease& lease, const char* outcome,
                        const std::string& reason, const char* state, int add_attempts,
                        bool is_error);

// A leased trial whose job has stopped becomes STALE; returns the reason.
std::string StopForStoppedJob(pqxx::work& tx, const HeldLease& lease);

// ---- Validation ----
void ValidateMetrics(const std::vector<v1::Metric>& metrics, const char* field);
void ValidateObjectives(const std::vector<v1::ObjectiveValue>& objectives, const char* field);
void ValidateArtifact(const v1::Artifact& artifact, int64_t max_bytes, const char* field);
void UpsertMetrics(pqxx::work& tx, const std::string& trial_id,
                   const std::vector<v1::Metric>& metrics);
void UpsertObjectives(pqxx::work& tx, const std::string& trial_id,
                      const std::vector<v1::ObjectiveValue>& objectives);
v1::ArtifactRef InsertArtifact(pqxx::work& tx, const std::string& trial_id,
                               const v1::Artifact& artifact);
std::string RequireNonEmpty(const std::string& value, const char* field, size_t max_length = 200);

// Throws NotFound when the trial does not exist, InvalidArgument (field
// trial_id) when it belongs to another job.
void RequireTrialOfJob(pqxx::work& tx, const std::string& trial_id, const std::string& job_id);

// "a,b,c" as {"a", "b", "c"}; "" as {} (the ids and names the SQL side
// aggregates with string_agg).
std::vector<std::string> SplitCsv(const std::string& csv);

}  // namespace hilnas::store
