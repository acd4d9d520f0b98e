// The catalogue (issue #12): objectives and metrics are listed once, and the
// lists agree with the protocol that carries them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "hilnas/catalog/jobs.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/catalog/objectives.h"
#include "hilnas/common/errors.h"

namespace hilnas {
namespace {

TEST(Catalog, EveryProtocolObjectiveHasOneEntryAndNoEntryIsInvented) {
    const google::protobuf::EnumDescriptor* d = v1::Objective_descriptor();
    std::set<int> in_proto;
    for (int i = 0; i < d->value_count(); ++i) {
        if (d->value(i)->number() != v1::OBJECTIVE_UNSPECIFIED) {
            in_proto.insert(d->value(i)->number());
        }
    }
    std::set<int> ids;
    std::set<std::string> names;
    for (const catalog::Objective& o : catalog::Objectives()) {
        EXPECT_TRUE(ids.insert(o.id).second) << o.name;
        EXPECT_TRUE(names.insert(std::string(o.name)).second) << o.name;
        EXPECT_FALSE(o.unit.empty()) << o.name;
        EXPECT_FALSE(o.source.empty()) << o.name;
        EXPECT_FALSE(o.definition.empty()) << o.name;
        EXPECT_EQ(catalog::FindObjective(o.name), &o);
        EXPECT_EQ(catalog::FindObjective(static_cast<int>(o.id)), &o);
        // The protocol's spelling, lower-case and without its prefix.
        std::string proto = v1::Objective_Name(o.id).substr(std::string("OBJECTIVE_").size());
        EXPECT_EQ(catalog::ObjectiveLabel(o.id), proto);
    }
    EXPECT_EQ(ids, in_proto);
    EXPECT_EQ(catalog::FindObjective(static_cast<int>(v1::OBJECTIVE_UNSPECIFIED)), nullptr);
    EXPECT_EQ(catalog::FindObjective(std::string_view("accuracy")), nullptr);
    EXPECT_EQ(catalog::ObjectiveName(999), "");
}

TEST(Catalog, OnlyBoardFiguresNeedABoard) {
    std::set<int> needs;
    for (const catalog::Objective& o : catalog::Objectives()) {
        if (o.needs_board) needs.insert(o.id);
    }
    EXPECT_EQ(needs, (std::set<int>{v1::OBJECTIVE_LATENCY_MS, v1::OBJECTIVE_ENERGY_UJ}));
    EXPECT_EQ(catalog::FindObjective(static_cast<int>(v1::OBJECTIVE_ERROR))->split, "validation");
}

void ExpectRefused(const std::vector<int>& objectives, bool skip, const std::string& field) {
    try {
        catalog::CheckObjectives(objectives, skip);
        ADD_FAILURE() << "accepted; expected a refusal on " << field;
    } catch (const InvalidArgument& e) {
        EXPECT_EQ(e.field(), field) << e.what();
    }
}

TEST(Catalog, AnObjectiveListIsCheckedInOnePlace) {
    EXPECT_NO_THROW(catalog::CheckObjectives(
        std::vector<int>{v1::OBJECTIVE_ERROR, v1::OBJECTIVE_LATENCY_MS}, false));
    ExpectRefused({}, false, "spec.objectives");
    ExpectRefused({1, 2, 3, 4, 5, 6}, false, "spec.objectives");
    ExpectRefused({v1::OBJECTIVE_ERROR, 0}, false, "spec.objectives[1]");
    ExpectRefused({v1::OBJECTIVE_ERROR, 99}, false, "spec.objectives[1]");
    ExpectRefused({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_MACS, v1::OBJECTIVE_ERROR}, false,
                  "spec.objectives[2]");
    ExpectRefused({v1::OBJECTIVE_ERROR, v1::OBJECTIVE_ENERGY_UJ}, true, "spec.objectives[1]");
    EXPECT_NO_THROW(catalog::CheckObjectives(
        std::vector<int>{v1::OBJECTIVE_ERROR, v1::OBJECTIVE_MODEL_SIZE_BYTES}, true));
}

TEST(Catalog, MaxAttemptsDefaultsAndBounds) {
    EXPECT_EQ(catalog::ResolveMaxAttempts(0), catalog::kDefaultMaxAttempts);
    EXPECT_EQ(catalog::ResolveMaxAttempts(1), 1);
    EXPECT_EQ(catalog::ResolveMaxAttempts(catalog::kMaxMaxAttempts), catalog::kMaxMaxAttempts);
    for (int bad : {-1, catalog::kMaxMaxAttempts + 1}) {
        try {
            catalog::ResolveMaxAttempts(bad);
            ADD_FAILURE() << bad << " accepted";
        } catch (const InvalidArgument& e) {
            EXPECT_EQ(e.field(), "spec.budget.max_attempts");
        }
    }
}

// The README's objective table lists the catalogue's objectives, in its
// order, with its units: a newcomer reads what the code does.
TEST(Catalog, TheReadmesObjectiveTableIsTheCatalogue) {
    const char* root = std::getenv("HILNAS_SOURCE_DIR");
    ASSERT_NE(root, nullptr) << "HILNAS_SOURCE_DIR is set by CTest";
    std::ifstream readme(std::string(root) + "/README.md");
    ASSERT_TRUE(readme) << root << "/README.md";
    std::vector<std::pair<std::string, std::string>> rows;  // (name, unit)
    bool in_table = false;
    for (std::string line; std::getline(readme, line);) {
        if (line.rfind("| objective | unit |", 0) == 0) {
            in_table = true;
            continue;
        }
        if (!in_table || line.rfind("|---", 0) == 0) continue;
        if (line.rfind("| `", 0) != 0) break;  // the table ends
        const size_t name_end = line.find('`', 3);
        const size_t unit_start = line.find("| ", name_end) + 2;
        const size_t unit_end = line.find(" |", unit_start);
        rows.emplace_back(line.substr(3, name_end - 3),
                          line.substr(unit_start, unit_end - unit_start));
    }
    std::vector<std::pair<std::string, std::string>> catalogue;
    for (const catalog::Objective& o : catalog::Objectives()) {
        catalogue.emplace_back(std::string(o.name), std::string(o.unit));
    }
    EXPECT_EQ(rows, catalogue);
}

TEST(Catalog, MetricsAreNamedOnceWithAKnownSource) {
    std::set<std::string> names;
    for (const catalog::Metric& m : catalog::Metrics()) {
        EXPECT_TRUE(names.insert(std::string(m.name)).second) << m.name;
        EXPECT_TRUE(v1::MetricSource_IsValid(m.source)) << m.name;
        EXPECT_NE(m.source, v1::METRIC_SOURCE_UNSPECIFIED) << m.name;
        EXPECT_FALSE(m.unit.empty()) << m.name;
        EXPECT_EQ(catalog::FindMetric(m.name), &m);
    }
    // The figures the search selects on and reports come from the trainer's evaluation.
    EXPECT_EQ(catalog::FindMetric(catalog::kInt8ValAccuracy)->source, v1::METRIC_SOURCE_EVALUATED);
    EXPECT_EQ(catalog::FindMetric(catalog::kInt8TestAccuracy)->source, v1::METRIC_SOURCE_EVALUATED);
    EXPECT_EQ(catalog::FindMetric("no_such_metric"), nullptr);
}

}  // namespace
}  // namespace hilnas
