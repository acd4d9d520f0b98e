// Store: what `hilnas boards` and `hilnas workers` show, the farm and the trainers.
#include <map>
#include <sstream>

#include "store_impl.h"

namespace hilnas::store {

namespace {

std::chrono::system_clock::time_point DatabaseNow(pqxx::work& tx) {
    return FromEpochUs(Exec(tx, sql::kDatabaseNow).front()["now_us"]);
}

v1::DeviceKind ParseDevice(const std::string& name) {
    if (name == "cuda") return v1::DEVICE_CUDA;
    if (name == "cpu") return v1::DEVICE_CPU;
    return v1::DEVICE_KIND_UNSPECIFIED;
}

}  // namespace

FarmView Store::ListBoardUtilisation() {
    return impl_->Transact("ListBoardUtilisation", [&](pqxx::work& tx) {
        FarmView view;
        view.as_of = DatabaseNow(tx);
        for (const pqxx::row& r : Exec(tx, sql::kBoardUtilisation)) {
            BoardUtilisation& b = view.boards.emplace_back();
            b.board_id = r["board_id"].as<std::string>();
            b.board_type = r["board_type"].as<std::string>();
            b.agent_id = r["agent_id"].as<std::string>();
            b.agent_hostname = r["agent_hostname"].as<std::string>();
            b.health = ParseBoardHealth(r["health"].as<std::string>());
            b.health_reason = r["health_reason"].as<std::string>();
            b.active = r["active"].as<bool>();
            b.consecutive_failures = r["consecutive_failures"].as<int>();
            b.debugger = ParseDebugger(r["debugger"].as<std::string>());
            b.last_seen = FromEpochUs(r["last_seen_us"]);
            b.agent_last_seen = FromEpochUs(r["agent_last_seen_us"]);
            b.measuring_trial_id = r["measuring_trial_id"].as<std::string>();
            b.measuring_job_id = r["measuring_job_id"].as<std::string>();
            b.measuring_job_owner = r["measuring_job_owner"].as<std::string>();
            b.measurements_total = r["measurements_total"].as<int64_t>();
            b.measurements_24h = r["measurements_24h"].as<int64_t>();
            b.failed_leases_24h = r["failed_leases_24h"].as<int64_t>();
            b.busy_seconds_24h = r["busy_seconds_24h"].as<double>();
            b.utilisation_24h = r["utilisation_24h"].as<double>();
        }
        return view;
    });
}

WorkerView Store::ListWorkers(std::chrono::seconds window) {
    return impl_->Transact("ListWorkers", [&](pqxx::work& tx) {
        WorkerView view;
        view.as_of = DatabaseNow(tx);
        for (const pqxx::row& r :
             Exec(tx, sql::kListWorkers, static_cast<double>(window.count()))) {
            WorkerInfo& w = view.workers.emplace_back();
            w.worker_id = r["worker_id"].as<std::string>();
            w.hostname = r["hostname"].as<std::string>();
            w.version = r["version"].as<std::string>();
            w.device = ParseDevice(r["device"].as<std::string>());
            w.device_name = r["device_name"].as<std::string>();
            w.memory_bytes = r["memory_bytes"].as<int64_t>();
            w.cpu_threads = r["cpu_threads"].as<int>();
            std::istringstream names(r["datasets"].as<std::string>());
            for (std::string name; std::getline(names, name);) w.datasets.push_back(name);
            w.first_seen = FromEpochUs(r["first_seen_us"]);
            w.last_seen = FromEpochUs(r["last_seen_us"]);
            w.live = r["live"].as<bool>();
        }
        std::map<std::string, WorkerInfo*> by_id;
        for (WorkerInfo& w : view.workers) by_id[w.worker_id] = &w;
        for (const pqxx::row& r : Exec(tx, sql::kWorkerLeases)) {
            const auto worker = by_id.find(r["worker_id"].as<std::string>());
            if (worker == by_id.end()) continue;  // a claim always records its worker first
            WorkerTrialLease& l = worker->second->leases.emplace_back();
            l.trial_id = r["trial_id"].as<std::string>();
            l.job_id = r["job_id"].as<std::string>();
            l.job_owner = r["job_owner"].as<std::string>();
            l.trial_number = r["trial_number"].as<int>();
            l.leased_at = FromEpochUs(r["leased_at_us"]);
            l.expires_at = FromEpochUs(r["expires_at_us"]);
        }
        return view;
    });
}

}  // namespace hilnas::store
