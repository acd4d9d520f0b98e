// deploy/grafana/hilnas.json against the real schema: every SQL query in the
// dashboard (panels, template variables, annotations: every "rawSql" and every
// query variable) runs through a member of the hilnas_dashboard role
// (deploy/postgres/dashboard-role.sql), with the template variables and the
// Grafana macros it uses replaced by real values from a small job stored
// through the Store. The front, hypervolume, prediction and board queries
// must return exactly that job's rows. A panel with a broken query, a view
// the role cannot read, a variable without a test value or a macro this test
// does not know fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <regex>

#include "hilnas/testing/controller.h"
#include "hilnas/testing/temp_dir.h"
#include "store_test_support.h"

namespace hilnas {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAre;

constexpr char kProbeRole[] = "grafana_dashboard_probe";
constexpr char kProbePassword[] = "probe-password-1";

// One SQL query of the dashboard and where it is (a JSON pointer and a title).
struct DashboardQuery {
    std::string where;
    std::string sql;
    bool template_variable = false;
};

void CollectRawSql(const nlohmann::json& node, const std::string& pointer, std::string title,
                   std::vector<DashboardQuery>* out) {
    if (node.is_object()) {
        if (node.contains("title") && node["title"].is_string()) {
            title = node["title"].get<std::string>();
        }
        for (const auto& [key, value] : node.items()) {
            if (key == "rawSql" && value.is_string()) {
                out->push_back({pointer + "/rawSql (" + title + ")", value.get<std::string>()});
            } else {
                CollectRawSql(value, pointer + "/" + key, title, out);
            }
        }
    } else if (node.is_array()) {
        for (size_t i = 0; i < node.size(); ++i) {
            CollectRawSql(node[i], pointer + "/" + std::to_string(i), title, out);
        }
    }
}

// Every query of the dashboard: all "rawSql" strings, and the query of every
// template variable of type "query" (a string, or an object with rawSql).
std::vector<DashboardQuery> DashboardQueries(const nlohmann::json& dashboard) {
    std::vector<DashboardQuery> queries;
    CollectRawSql(dashboard, "", "", &queries);
    const nlohmann::json& variables = dashboard.at("templating").at("list");
    for (size_t i = 0; i < variables.size(); ++i) {
        const nlohmann::json& v = variables[i];
        if (v.value("type", "") != "query" || !v.contains("query")) continue;
        if (v["query"].is_string()) {
            queries.push_back({"/templating/list/" + std::to_string(i) + "/query (variable " +
                                   v.value("name", "?") + ")",
                               v["query"].get<std::string>(), true});
        } else if (v["query"].is_object() && v["query"].contains("rawSql")) {
            // Already collected by the walk; mark it as a variable's.
            for (DashboardQuery& q : queries) {
                if (q.where.rfind("/templating/list/" + std::to_string(i) + "/", 0) == 0) {
                    q.template_variable = true;
                }
            }
        }
    }
    return queries;
}

std::string IsoTime(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// Grafana's PostgreSQL macros that the dashboard may use, expanded as Grafana
// expands them for the range [from, to]; then the template variables. Throws
// std::runtime_error for anything else that starts with '$' (or is [[name]]),
// so a new macro or variable must be taught here first.
std::string Substitute(const std::string& sql, const std::map<std::string, std::string>& values,
                       const std::string& from, const std::string& to) {
    static const std::regex kMacro(R"(\$__(\w+)\(([^)]*)\))");
    std::string expanded;
    auto begin = std::sregex_iterator(sql.begin(), sql.end(), kMacro);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        expanded += sql.substr(last, static_cast<size_t>(m.position()) - last);
        const std::string name = m[1].str();
        const std::string argument = m[2].str();
        if (name == "timeFilter") {
            expanded += argument + " BETWEEN '" + from + "' AND '" + to + "'";
        } else if (name == "timeFrom" && argument.empty()) {
            expanded += "'" + from + "'";
        } else if (name == "timeTo" && argument.empty()) {
            expanded += "'" + to + "'";
        } else {
            throw std::runtime_error("macro $__" + name + "(" + argument +
                                     ") is not one this test expands: teach it first");
        }
        last = static_cast<size_t>(m.position() + m.length());
    }
    expanded += sql.substr(last);

    static const std::regex kVariable(R"(\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]|\$(\w+))");
    std::string out;
    last = 0;
    for (auto it = std::sregex_iterator(expanded.begin(), expanded.end(), kVariable);
         it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        out += expanded.substr(last, static_cast<size_t>(m.position()) - last);
        const std::string name = m[1].matched ? m[1].str() : m[3].matched ? m[3].str() : m[4].str();
        if (m[2].matched && m[2].str() != "raw") {
            throw std::runtime_error("variable format ${" + name + ":" + m[2].str() +
                                     "} is not one this test expands");
        }
        const auto value = values.find(name);
        if (value == values.end()) {
            throw std::runtime_error("variable $" + name + " has no test value: add one");
        }
        out += value->second;
        last = static_cast<size_t>(m.position() + m.length());
    }
    out += expanded.substr(last);
    return out;
}

// A query's result as text (NULL: nullopt), with its column names.
struct Result {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;

    std::vector<std::optional<std::string>> Column(const std::string& name) const {
        std::vector<std::optional<std::string>> values;
        for (size_t c = 0; c < columns.size(); ++c) {
            if (columns[c] != name) continue;
            for (const auto& row : rows) values.push_back(row[c]);
        }
        return values;
    }
    bool Has(const std::string& name) const {
        return std::find(columns.begin(), columns.end(), name) != columns.end();
    }
};

// Runs `sql` as the dashboard's login role, as Grafana would. Throws on error.
Result RunAsDashboard(const std::string& dsn, const std::string& sql) {
    pqxx::connection conn(dsn + " user=" + kProbeRole + " password=" + kProbePassword);
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec(sql);
    Result result;
    for (pqxx::row::size_type c = 0; c < r.columns(); ++c)
        result.columns.push_back(r.column_name(c));
    for (const pqxx::row& row : r) {
        std::vector<std::optional<std::string>> values;
        for (const pqxx::field& f : row) {
            values.push_back(f.is_null() ? std::nullopt
                                         : std::optional<std::string>(f.as<std::string>()));
        }
        result.rows.push_back(std::move(values));
    }
    return result;  // never committed: Grafana only reads
}

// One objective point of a stored trial (all four objectives of job A).
struct Point {
    double error;
    double flash_bytes;
    double sram_bytes;
    double latency_ms;
};

class GrafanaDashboardTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dsn_ = testing::MigratedDatabase("grafana");
        store_ = std::make_unique<store::Store>(testing::OptionsFor(dsn_));
        const std::string role_sql =
            testing::Slurp(testing::SourcePath("deploy/postgres/dashboard-role.sql"));
        ASSERT_FALSE(role_sql.empty());
        pqxx::connection conn(dsn_);
        pqxx::work tx(conn);
        tx.exec(role_sql);
        tx.exec(std::string("DROP ROLE IF EXISTS ") + kProbeRole);
        tx.exec(std::string("CREATE ROLE ") + kProbeRole + " LOGIN PASSWORD '" + kProbePassword +
                "' IN ROLE hilnas_dashboard");
        // As README.md ("Database roles") sets up Grafana's login.
        tx.exec(std::string("ALTER ROLE ") + kProbeRole +
                " SET default_transaction_read_only = on");
        tx.exec(std::string("ALTER ROLE ") + kProbeRole + " SET statement_timeout = '30s'");
        tx.commit();

        store::AgentRegistration agent;
        agent.agent_id = "lab";
        agent.boards.push_back(testing::QemuBoard("lab/0"));
        store_->RegisterAgent(agent);
    }

    // A running job whose trials are trained (error, predicted SRAM and flash)
    // and measured on lab/0 (flash, SRAM, latency), one per point. Returns the
    // job id and fills the trial ids. (Claims take the oldest pending trial of
    // any job: store one job's trials completely before the next job's.)
    std::string StoreJob(const std::vector<v1::Objective>& objectives,
                         const std::vector<Point>& points, std::vector<std::string>* trial_ids) {
        const std::string job =
            store_->CreateJob("grafana", testing::Spec(objectives, /*measure=*/true)).job_id();
        store_->SetJobState(job, v1::JOB_RUNNING, "");
        for (const Point& p : points) {
            // One at a time, so that the trial numbered i + 1 holds points[i].
            store_->InsertTrials(job, testing::SomeTrials(1));
            const auto lease = store_->ClaimTrial("w", testing::Cpu());
            EXPECT_TRUE(lease.has_value());
            if (!lease) return job;
            store::TrainingResult trained;
            trained.objectives.push_back(testing::Objective(v1::OBJECTIVE_ERROR, p.error));
            trained.metrics.push_back(testing::Metric("predicted_sram_bytes", p.sram_bytes - 1000));
            trained.metrics.push_back(
                testing::Metric("predicted_flash_bytes", p.flash_bytes - 500));
            EXPECT_EQ(store_->CompleteTrial("w", lease->lease.lease_id(), trained),
                      v1::TRIAL_TRAINED);

            const auto measuring = store_->ClaimMeasurement("lab", "lab/0");
            EXPECT_TRUE(measuring.has_value());
            if (!measuring) return job;
            v1::Measurement m = testing::SomeMeasurement();
            m.set_latency_ms(p.latency_ms);
            m.set_latency_p10_ms(p.latency_ms);
            m.set_latency_p90_ms(p.latency_ms);
            m.mutable_sram()->set_total_bytes(static_cast<int64_t>(p.sram_bytes));
            m.mutable_flash()->set_total_bytes(static_cast<int64_t>(p.flash_bytes));
            const auto emulated = v1::METRIC_SOURCE_EMULATED;
            std::vector<v1::ObjectiveValue> measured;
            for (v1::Objective o : objectives) {
                if (o == v1::OBJECTIVE_FLASH_BYTES) {
                    measured.push_back(testing::Objective(o, p.flash_bytes, emulated));
                } else if (o == v1::OBJECTIVE_SRAM_BYTES) {
                    measured.push_back(testing::Objective(o, p.sram_bytes, emulated));
                } else if (o == v1::OBJECTIVE_LATENCY_MS) {
                    measured.push_back(testing::Objective(o, p.latency_ms, emulated));
                }
            }
            store::MeasurementResult result{m, measured, std::nullopt, ""};
            EXPECT_EQ(store_->CompleteMeasurement("lab", measuring->lease.lease_id(), result),
                      v1::TRIAL_COMPLETE);
            trial_ids->push_back(lease->lease.trial_id());
        }
        return job;
    }

    std::string dsn_;
    std::unique_ptr<store::Store> store_;
};

TEST_F(GrafanaDashboardTest, EveryQueryRunsAsTheDashboardRoleAndShowsTheJobsRows) {
    // Job A: four objectives; trials 1 and 2 are its front, 3 is dominated by
    // 1, and 4 was never trained.
    const std::vector<v1::Objective> objectives = {v1::OBJECTIVE_ERROR, v1::OBJECTIVE_FLASH_BYTES,
                                                   v1::OBJECTIVE_SRAM_BYTES,
                                                   v1::OBJECTIVE_LATENCY_MS};
    std::vector<std::string> a_trials;
    const std::string job_a = StoreJob(
        objectives,
        {{0.10, 120000, 40000, 8.0}, {0.20, 60000, 30000, 4.0}, {0.25, 130000, 50000, 9.0}},
        &a_trials);
    ASSERT_EQ(a_trials.size(), 3u);
    const std::vector<double> a_hypervolume = {0.5, 0.8, 0.8};
    for (size_t i = 0; i < a_trials.size(); ++i) {
        store_->RecordHypervolume(job_a, {static_cast<int>(i) + 1,
                                          a_trials[i],
                                          a_hypervolume[i],
                                          i == 0 ? 1 : 2,
                                          {1.0, 262144, 131072, 100}});
    }
    // Job B, on the same board: its rows must not show on job A's dashboard.
    std::vector<std::string> b_trials;
    const std::string job_b = StoreJob({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_LATENCY_MS},
                                       {{0.05, 90000, 20000, 2.0}}, &b_trials);
    ASSERT_EQ(b_trials.size(), 1u);
    store_->RecordHypervolume(job_b, {1, b_trials[0], 0.3, 1, {1.0, 100}});
    // Job A's fourth trial, never trained: not on its front, not measured.
    store_->InsertTrials(job_a, testing::SomeTrials(1));

    const std::string path = testing::SourcePath("deploy/grafana/hilnas.json");
    const std::string text = testing::Slurp(path);
    ASSERT_FALSE(text.empty()) << path;
    const nlohmann::json dashboard = nlohmann::json::parse(text);
    const std::vector<DashboardQuery> queries = DashboardQueries(dashboard);
    ASSERT_FALSE(queries.empty());

    const std::time_t now = std::time(nullptr);
    const std::string from = IsoTime(now - 7 * 24 * 3600);
    const std::string to = IsoTime(now + 3600);
    const std::map<std::string, std::string> values = {{"job_id", job_a}};

    std::map<std::string, int> queries_over;  // view -> how many queries read it
    int variable_queries = 0;
    for (const DashboardQuery& q : queries) {
        SCOPED_TRACE(q.where);
        std::string sql;
        try {
            sql = Substitute(q.sql, values, from, to);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what() << "\n" << q.sql;
            continue;
        }
        Result r;
        try {
            r = RunAsDashboard(dsn_, sql);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "the query fails as the dashboard role: " << e.what() << "\n" << sql;
            continue;
        }
        if (q.template_variable) {
            ++variable_queries;
            ASSERT_TRUE(r.Has("__value")) << sql;
            std::vector<std::string> ids;
            for (const auto& v : r.Column("__value")) ids.push_back(v.value_or(""));
            EXPECT_THAT(ids, IsSupersetOf({job_a, job_b}));
        }
        if (sql.find("v_pareto_front") != std::string::npos) {
            ++queries_over["v_pareto_front"];
            EXPECT_EQ(r.rows.size(), 2u) << "job A's front is trials 1 and 2\n" << sql;
            if (r.Has("trial")) {
                EXPECT_THAT(r.Column("trial"), UnorderedElementsAre("1", "2"));
            }
        }
        if (sql.find("v_job_hypervolume") != std::string::npos) {
            ++queries_over["v_job_hypervolume"];
            EXPECT_EQ(r.rows.size(), 3u) << "job A recorded three hypervolumes\n" << sql;
            if (r.Has("hypervolume")) {
                EXPECT_THAT(r.Column("hypervolume"), ElementsAre("0.5", "0.8", "0.8"));
            }
        }
        if (sql.find("v_prediction_error") != std::string::npos) {
            ++queries_over["v_prediction_error"];
            EXPECT_EQ(r.rows.size(), 3u) << "job A measured three trials\n" << sql;
            for (const char* column : {"predicted", "measured"}) {
                for (const auto& v : r.Column(column)) EXPECT_TRUE(v.has_value()) << column;
            }
        }
        if (sql.find("v_board_utilisation") != std::string::npos) {
            ++queries_over["v_board_utilisation"];
            EXPECT_EQ(r.rows.size(), 1u) << "the farm has one board\n" << sql;
        }
        if (q.sql.find("$__timeFilter") != std::string::npos) {
            EXPECT_FALSE(r.rows.empty()) << "the last 7 days hold all of job A's rows\n" << sql;
        }
    }
    // The panels the dashboard exists for (issue #15): a job's front, its
    // hypervolume, board utilisation, measured against predicted.
    for (const char* view :
         {"v_pareto_front", "v_job_hypervolume", "v_board_utilisation", "v_prediction_error"}) {
        EXPECT_GE(queries_over[view], 1) << "no query reads " << view;
    }
    EXPECT_EQ(variable_queries, 1) << "the job_id variable's query";
}

TEST(GrafanaDashboardSubstitution, ExpandsTheMacrosAndVariablesItKnowsAndRefusesTheRest) {
    const std::map<std::string, std::string> values = {{"job_id", "J"}};
    EXPECT_EQ(Substitute("WHERE $__timeFilter(m.at) AND id = '$job_id' OR id = '${job_id}'", values,
                         "F", "T"),
              "WHERE m.at BETWEEN 'F' AND 'T' AND id = 'J' OR id = 'J'");
    EXPECT_EQ(Substitute("SELECT $__timeFrom(), $__timeTo(), '[[job_id]]'", values, "F", "T"),
              "SELECT 'F', 'T', 'J'");
    EXPECT_THROW(Substitute("WHERE $__timeGroup(at, 1h)", values, "F", "T"), std::runtime_error);
    EXPECT_THROW(Substitute("WHERE board = '$board'", values, "F", "T"), std::runtime_error);
    EXPECT_THROW(Substitute("WHERE id = ${job_id:csv}", values, "F", "T"), std::runtime_error);
    // $job_idx is another variable, not $job_id followed by x.
    EXPECT_THROW(Substitute("WHERE id = '$job_idx'", values, "F", "T"), std::runtime_error);
}

}  // namespace
}  // namespace hilnas
