// Small helpers for the store's pg tests: a migrated database, job specs,
// candidates, artifacts, and raw SQL for looking behind the Store's back.
#pragma once

#include <chrono>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "hilnas/store/migrations.h"
#include "hilnas/store/store.h"
#include "hilnas/testing/pg.h"

namespace hilnas::testing {

// A new database with the schema applied.
inline std::string MigratedDatabase(const std::string& prefix) {
    const std::string dsn = FreshDatabase(prefix);
    store::Migrate(dsn);
    return dsn;
}

inline store::StoreOptions OptionsFor(const std::string& dsn) {
    store::StoreOptions options;
    options.dsn = dsn;
    options.pool_size = 8;
    options.statement_timeout = std::chrono::seconds(30);
    return options;
}

inline v1::JobSpec Spec(const std::vector<v1::Objective>& objectives, bool measure = true,
                        int max_attempts = 3, const std::string& dataset = "fashion-mnist",
                        const std::string& board_type = "qemu-netduinoplus2") {
    v1::JobSpec spec;
    spec.set_name("test job");
    spec.mutable_dataset()->set_name(dataset);
    spec.set_board_type(board_type);
    for (v1::Objective o : objectives) spec.add_objectives(o);
    spec.mutable_budget()->set_max_attempts(max_attempts);
    spec.mutable_budget()->set_max_trials(100);
    spec.mutable_measurement()->set_skip(!measure);
    spec.mutable_measurement()->set_timed_runs(10);
    spec.mutable_constraints()->set_max_sram_bytes(131072);
    return spec;
}

inline v1::Candidate SomeCandidate(int i) {
    v1::Candidate c;
    c.mutable_training()->set_epochs(1 + i % 5);
    c.mutable_training()->set_seed(static_cast<uint64_t>(i));
    c.mutable_training()->set_learning_rate(0.01 * (1 + i % 3));
    c.add_encoding(0.25 * (i % 4));
    return c;
}

inline std::vector<store::NewTrial> SomeTrials(int n) {
    std::vector<store::NewTrial> trials(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) trials[static_cast<size_t>(i)].candidate = SomeCandidate(i);
    return trials;
}

inline v1::WorkerCapabilities Cpu(const std::vector<std::string>& datasets = {}) {
    v1::WorkerCapabilities caps;
    caps.set_device(v1::DEVICE_CPU);
    caps.set_hostname("test-host");
    caps.set_cpu_threads(2);
    for (const auto& d : datasets) caps.add_datasets(d);
    return caps;
}

// `size` bytes, every value 0..255 (including NUL), varied by `seed`.
inline v1::Artifact MakeArtifact(v1::ArtifactKind kind, size_t size, int seed = 0) {
    v1::Artifact a;
    a.set_kind(kind);
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + seed) & 0xff);
    a.set_data(data);
    return a;
}

inline v1::ObjectiveValue Objective(v1::Objective o, double value,
                                    v1::MetricSource source = v1::METRIC_SOURCE_EVALUATED) {
    v1::ObjectiveValue v;
    v.set_objective(o);
    v.set_value(value);
    v.set_source(source);
    return v;
}

inline v1::Metric Metric(const std::string& name, double value) {
    v1::Metric m;
    m.set_name(name);
    m.set_value(value);
    m.set_source(v1::METRIC_SOURCE_EVALUATED);
    return m;
}

inline v1::Board QemuBoard(const std::string& id, const std::string& type = "qemu-netduinoplus2") {
    v1::Board b;
    b.set_board_id(id);
    b.set_board_type(type);
    b.set_debugger(v1::DEBUGGER_QEMU);
    b.set_health(v1::BOARD_HEALTH_GOOD);
    return b;
}

inline v1::Measurement SomeMeasurement() {
    v1::Measurement m;
    m.set_cycles(1234567);
    m.set_latency_ms(7.5);
    m.set_energy_uj(120.25);
    m.set_source(v1::METRIC_SOURCE_EMULATED);
    m.set_energy_source(v1::METRIC_SOURCE_ESTIMATED);
    m.mutable_sram()->set_static_bytes(2048);
    m.mutable_sram()->set_stack_bytes(1024);
    m.mutable_sram()->set_arena_bytes(30000);
    m.mutable_sram()->set_total_bytes(33072);
    m.mutable_flash()->set_text_bytes(40000);
    m.mutable_flash()->set_rodata_bytes(90000);
    m.mutable_flash()->set_data_bytes(100);
    m.mutable_flash()->set_total_bytes(130100);
    m.set_outputs_match_host(true);
    m.mutable_provenance()->set_toolchain("arm-none-eabi-gcc 12.2.1 -O2");
    m.mutable_provenance()->set_clock_hz(168000000);
    m.mutable_provenance()->set_timing_method("systick-icount");
    m.mutable_provenance()->set_debugger("qemu");
    m.mutable_provenance()->set_debugger_version("7.2");
    m.mutable_provenance()->set_timed_runs(10);
    m.set_latency_p10_ms(7.25);
    m.set_latency_p90_ms(8.0);
    m.set_outputs_checked(3);
    m.mutable_provenance()->set_runtime_variant("cortex_m");
    return m;
}

// Calls ReapExpiredLeases until it reaps the lease (its expiry is in the
// database's clock, so we wait for it rather than fake it). Gives up after a
// minute, which only a broken reaper reaches.
inline store::ReapedLease ReapUntil(store::Store& store, const std::string& lease_id) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (std::chrono::steady_clock::now() < give_up) {
        for (const store::ReapedLease& r : store.ReapExpiredLeases().reaped) {
            if (r.lease_id == lease_id) return r;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("lease " + lease_id + " was never reaped");
}

// One value from the database, for checks the Store does not expose.
template <typename T, typename... Args>
T QueryValue(const std::string& dsn, const std::string& sql, Args&&... args) {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    return tx.exec_params1(sql, std::forward<Args>(args)...)[0].template as<T>();
}

}  // namespace hilnas::testing
