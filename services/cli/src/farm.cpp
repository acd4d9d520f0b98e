// hilnas boards and hilnas workers: the farm and the trainers, with health and
// utilisation, as JSON (the reply) or as a table for people.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>

#include "hilnas/common/errors.h"
#include "session.h"

namespace hilnas::cli {

namespace {

using google::protobuf::util::TimeUtil;
using Row = std::vector<std::string>;

// --format json|table, or --table; csv is front's alone.
OutputFormat FarmFormat(const Session& s) {
    const std::string text = s.config.GetString("format");
    if (text != "json" && text != "table") {
        throw InvalidArgument("must be json or table, not '" + text + "'", "--format");
    }
    const OutputFormat format = ParseFormat(text);
    if (s.config.GetBool("table")) {
        if (s.config.SourceOf("format") != Config::Source::kDefault &&
            format != OutputFormat::kTable) {
            throw InvalidArgument("conflicts with --format " + text, "--table");
        }
        return OutputFormat::kTable;
    }
    return format;
}

bool OpenFarm(const std::string& usage, const Args& args, Session& s) {
    if (!Open(usage, args, s,
              {{"format", OptionType::kString, "json", "json or table"},
               {"table", OptionType::kBool, "false", "the same as --format table"}})) {
        return false;
    }
    if (!s.config.positional().empty()) {
        throw InvalidArgument("unexpected argument", s.config.positional().front());
    }
    return true;
}

// Left-aligned columns as wide as their widest cell, two spaces apart.
void PrintTable(const Row& header, const std::vector<Row>& rows) {
    std::vector<size_t> width(header.size());
    for (size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const Row& r : rows) width[c] = std::max(width[c], r[c].size());
    }
    auto print = [&](const Row& r) {
        std::string line;
        for (size_t c = 0; c < r.size(); ++c) {
            line += r[c];
            if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
        }
        std::cout << line << "\n";
    };
    print(header);
    for (const Row& r : rows) print(r);
}

// The lower-case tail of an enum value's name: BOARD_HEALTH_GOOD -> "good".
std::string Tail(const std::string& name, const std::string& prefix) {
    std::string tail = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
    for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return tail;
}

// "12s ago", "5m ago", "3h ago", "2d ago", counted on the controller's clock.
std::string Ago(const google::protobuf::Timestamp& then, const google::protobuf::Timestamp& now) {
    if (then.seconds() == 0 && then.nanos() == 0) return "never";
    const int64_t s = std::max<int64_t>(0, TimeUtil::DurationToSeconds(now - then));
    char text[32];
    if (s < 60) {
        std::snprintf(text, sizeof text, "%llds ago", static_cast<long long>(s));
    } else if (s < 3600) {
        std::snprintf(text, sizeof text, "%lldm ago", static_cast<long long>(s / 60));
    } else if (s < 86400) {
        std::snprintf(text, sizeof text, "%lldh ago", static_cast<long long>(s / 3600));
    } else {
        std::snprintf(text, sizeof text, "%lldd ago", static_cast<long long>(s / 86400));
    }
    return text;
}

std::string Percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", 100.0 * std::clamp(fraction, 0.0, 1.0));
    return text;
}

std::vector<std::string> BoardRow(const v1::BoardStatus& b,
                                  const google::protobuf::Timestamp& now) {
    std::string health = Tail(v1::BoardHealth_Name(b.health()), "BOARD_HEALTH_");
    if (!b.active()) health += " (inactive)";
    std::string current = "-";
    if (b.measuring()) current = b.measuring_trial_id().empty() ? "busy" : b.measuring_trial_id();
    const google::protobuf::Timestamp& seen =
        b.agent_last_seen() > b.last_seen() ? b.agent_last_seen() : b.last_seen();
    return {b.board_id(),
            b.board_type(),
            b.agent_id(),
            health,
            Percent(b.utilisation_24h()),
            std::to_string(b.measurements_24h()),
            std::to_string(b.failed_leases_24h()),
            current,
            Ago(seen, now)};
}

std::vector<std::string> WorkerRow(const v1::WorkerStatus& w,
                                   const google::protobuf::Timestamp& now) {
    std::string device = Tail(v1::DeviceKind_Name(w.device()), "DEVICE_");
    if (!w.device_name().empty()) device += " (" + w.device_name() + ")";
    std::string datasets;
    for (const std::string& d : w.datasets()) datasets += (datasets.empty() ? "" : ",") + d;
    std::string trials;
    for (const v1::WorkerLease& t : w.trials()) {
        trials += (trials.empty() ? "" : ",") + t.trial_id();
    }
    if (const int hidden = w.leases() - w.trials_size(); hidden > 0) {
        trials += (trials.empty() ? "" : " ") + std::string("+") + std::to_string(hidden) +
                  " of other users";
    }
    return {w.worker_id(),
            w.hostname().empty() ? "-" : w.hostname(),
            device,
            std::to_string(w.cpu_threads()),
            datasets.empty() ? "any" : datasets,
            w.live() ? "live" : "gone",
            Ago(w.last_seen(), now),
            trials.empty() ? "-" : trials};
}

}  // namespace

int Boards(const Args& args) {
    Session s;
    if (!OpenFarm("hilnas boards [--format json|table] [--table]", args, s)) return 0;
    const OutputFormat format = FarmFormat(s);
    v1::ListBoardsResponse resp;
    auto ctx = s.Context();
    Check(s.stub->ListBoards(ctx.get(), v1::ListBoardsRequest(), &resp), s.client);
    if (format == OutputFormat::kJson) {
        std::cout << Print(resp) << "\n";
        return 0;
    }
    std::vector<Row> rows;
    for (const v1::BoardStatus& b : resp.boards()) rows.push_back(BoardRow(b, resp.as_of()));
    PrintTable({"BOARD", "TYPE", "AGENT", "HEALTH", "UTIL_24H", "MEAS_24H", "FAILED_24H",
                "MEASURING", "SEEN"},
               rows);
    return 0;
}

int Workers(const Args& args) {
    Session s;
    if (!OpenFarm("hilnas workers [--format json|table] [--table]", args, s)) return 0;
    const OutputFormat format = FarmFormat(s);
    v1::ListWorkersResponse resp;
    auto ctx = s.Context();
    Check(s.stub->ListWorkers(ctx.get(), v1::ListWorkersRequest(), &resp), s.client);
    if (format == OutputFormat::kJson) {
        std::cout << Print(resp) << "\n";
        return 0;
    }
    std::vector<Row> rows;
    for (const v1::WorkerStatus& w : resp.workers()) rows.push_back(WorkerRow(w, resp.as_of()));
    PrintTable({"WORKER", "HOST", "DEVICE", "THREADS", "DATASETS", "STATE", "SEEN", "TRIALS"},
               rows);
    return 0;
}

}  // namespace hilnas::cli
