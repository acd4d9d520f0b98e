#include "hilnas/trainer/worker.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "device.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/metrics.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/text.h"
#include "hilnas/common/version.h"
#include "hilnas/dataset/dataset.h"

namespace hilnas::trainer {

namespace {

v1::Metric Metric(const std::string& name, double value) {
    v1::Metric m;
    m.set_name(name);
    m.set_value(value);
    const catalog::Metric* known = catalog::FindMetric(name);
    if (known == nullptr) throw Internal("metric '" + name + "' is not in the catalogue");
    m.set_source(known->source);
    return m;
}

std::string Hostname() {
    char buf[256] = {};
    if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
    return buf;
}

std::chrono::milliseconds ToMillis(const google::protobuf::Duration& d) {
    return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

}  // namespace

std::string Sha256Hex(const std::string& bytes) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    std::string hex;
    char b[3];
    for (unsigned char c : digest) {
        std::snprintf(b, sizeof(b), "%02x", c);
        hex += b;
    }
    return hex;
}

Worker::Worker(WorkClient& client, WorkerOptions options, TrainFn train)
    : client_(client), options_(std::move(options)), train_(std::move(train)) {
    if (options_.worker_id.empty()) {
        options_.worker_id = Hostname() + "-" + std::to_string(getpid());
    }
}

v1::WorkerCapabilities Worker::Capabilities() const {
    v1::WorkerCapabilities c;
    const DeviceInfo info = ProbeDevice();
    const bool cuda = ResolveDevice(options_.device) == "cuda";
    c.set_device(cuda ? v1::DEVICE_CUDA : v1::DEVICE_CPU);
    c.set_device_name(cuda ? "cuda" : "cpu");
    c.set_cpu_threads(options_.threads > 0 ? options_.threads : info.cpu_threads);
    c.set_hostname(Hostname());
    c.set_version(Version());
    for (const std::string& name : options_.datasets.Present()) c.add_datasets(name);
    return c;
}

int Worker::Run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
        if (options_.max_trials > 0 && completed_ >= options_.max_trials) break;
        try {
            RunOnce(stop);
        } catch (const Error& e) {
            spdlog::warn("controller call failed: {}; retrying in {} ms", e.what(),
                         options_.retry_backoff.count());
            std::this_thread::sleep_for(options_.retry_backoff);
        }
    }
    return completed_;
}

bool Worker::RunOnce(const std::atomic<bool>& stop) {
    v1::LeaseTrialRequest req;
    req.set_worker_id(options_.worker_id);
    *req.mutable_capabilities() = Capabilities();
    req.mutable_wait()->set_seconds(options_.lease_wait.count() / 1000);
    req.mutable_wait()->set_nanos(static_cast<int32_t>(options_.lease_wait.count() % 1000) *
                                  1000000);
    const v1::LeaseTrialResponse lease = client_.LeaseTrial(req);
    if (!lease.has_lease() || lease.lease().lease_id().empty()) return false;
    RunTask(lease, stop);
    return true;
}

void Worker::RunTask(const v1::LeaseTrialResponse& lease, const std::atomic<bool>& stop) {
    const std::string lease_id = lease.lease().lease_id();
    const v1::TrainingTask& task = lease.task();
    spdlog::info("leased trial {} (job {}, attempt {})", task.trial_id(), task.job_id(),
                 lease.lease().attempt());
    std::atomic<bool> cancel{false};
    std::atomic<bool> lease_lost{false};
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;

    // Heartbeats on their own thread, so a long epoch never lets the lease expire.
    auto interval =
        lease.has_heartbeat_interval() ? ToMillis(lease.heartbeat_interval()) : options_.heartbeat;
    if (interval.count() <= 0) interval = options_.heartbeat;
    std::thread heartbeat([&] {
        std::unique_lock lock(mu);
        while (!cv.wait_for(lock, interval, [&] { return done; })) {
            lock.unlock();
            if (stop.load()) cancel = true;
            try {
                v1::LeaseHeartbeatRequest hb;
                hb.set_holder_id(options_.worker_id);
                hb.set_lease_id(lease_id);
                const auto r = client_.Heartbeat(hb);
                if (r.action() == v1::LEASE_ACTION_STOP) {
                    spdlog::info("trial {}: controller says stop ({})", task.trial_id(),
                                 r.reason());
                    lease_lost = true;
                    cancel = true;
                }
            } catch (const Error& e) {
                if (e.code() == ErrorCode::kFailedPrecondition ||
                    e.code() == ErrorCode::kNotFound) {
                    lease_lost = true;
                    cancel = true;
                }
                spdlog::warn("trial {}: heartbeat failed: {}", task.trial_id(), e.what());
            }
            lock.lock();
        }
    });
    // A stop request interrupts training at the next batch.
    std::thread watcher([&] {
        std::unique_lock lock(mu);
        while (!cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return done; })) {
            if (stop.load()) cancel = true;
        }
    });
    auto finish = [&] {
        {
            std::lock_guard lock(mu);
            done = true;
        }
        cv.notify_all();
        heartbeat.join();
        watcher.join();
    };

    auto fail = [&](const std::string& reason, bool retryable) {
        if (lease_lost) return;  // nothing to report on a lease we no longer hold
        v1::FailTrialRequest f;
        f.set_worker_id(options_.worker_id);
        f.set_lease_id(lease_id);
        f.set_reason(TruncateUtf8(reason, 10000));  // the controller refuses longer ones
        f.set_retryable(retryable);
        try {
            client_.FailTrial(f);
        } catch (const Error& e) {
            spdlog::warn("trial {}: FailTrial failed: {}", task.trial_id(), e.what());
        }
    };

    try {
        TrialSpec spec;
        spec.candidate = task.candidate();
        spec.dataset.name =
            task.dataset().name().empty() ? dataset::kDefaultDataset : task.dataset().name();
        spec.dataset.path = options_.datasets.DirFor(spec.dataset.name, task.dataset().path());
        if (task.dataset().validation_fraction() > 0) {
            spec.dataset.validation_fraction = task.dataset().validation_fraction();
        }
        spec.device = options_.device;
        spec.threads = options_.threads;
        spec.producer = std::string("hilnas-trainer ") + Version();
        // DNAS budgets default to the job's constraints.
        v1::DnasSettings* d = spec.candidate.mutable_dnas();
        if (d->max_sram_bytes() == 0 && task.constraints().has_max_sram_bytes()) {
            d->set_max_sram_bytes(task.constraints().max_sram_bytes());
        }
        if (d->max_flash_bytes() == 0 && task.constraints().has_max_flash_bytes()) {
            d->set_max_flash_bytes(task.constraints().max_flash_bytes());
        }
        if (d->max_macs() == 0 && task.constraints().has_max_macs()) {
            d->set_max_macs(task.constraints().max_macs());
        }
        if (!task.parent_checkpoint().artifact_id().empty()) {
            spec.parent_checkpoint = client_.FetchArtifact(task.parent_checkpoint().artifact_id());
        }
        auto progress = [&](const Progress& p) {
            v1::ReportProgressRequest r;
            r.set_worker_id(options_.worker_id);
            r.set_lease_id(lease_id);
            v1::TrialProgress* tp = r.mutable_progress();
            tp->set_trial_id(task.trial_id());
            tp->set_phase(p.phase);
            tp->set_epoch(p.epoch);
            tp->set_total_epochs(p.epochs);
            // Finite figures only (a diverged loss is reported as none).
            if (std::isfinite(p.loss)) tp->set_loss(p.loss);
            if (std::isfinite(p.val_accuracy) && p.val_accuracy >= 0) {
                tp->set_validation_accuracy(p.val_accuracy);
            }
            try {
                if (client_.ReportProgress(r).action() == v1::LEASE_ACTION_STOP) {
                    lease_lost = true;
                    cancel = true;
                }
            } catch (const Error& e) {
                if (e.code() == ErrorCode::kFailedPrecondition ||
                    e.code() == ErrorCode::kNotFound) {
                    lease_lost = true;
                    cancel = true;
                }
                spdlog::warn("trial {}: progress report failed: {}", task.trial_id(), e.what());
            }
        };
        const TrialResult result = train_(spec, progress, &cancel);
        finish();
        if (lease_lost) return;
        v1::CompleteTrialRequest c;
        c.set_worker_id(options_.worker_id);
        c.set_lease_id(lease_id);
        for (const auto& [name, value] : result.metrics) *c.add_metrics() = Metric(name, value);
        arch::ModelToProto(result.final_model, c.mutable_final_model());
        const std::string bytes = artifact::SerializeArtifact(result.artifact);
        c.mutable_model()->set_kind(v1::ARTIFACT_INT8_MODEL);
        c.mutable_model()->set_data(bytes);
        c.mutable_model()->set_sha256(Sha256Hex(bytes));
        if (!result.checkpoint.empty()) {
            c.mutable_checkpoint()->set_kind(v1::ARTIFACT_CHECKPOINT);
            c.mutable_checkpoint()->set_data(result.checkpoint);
            c.mutable_checkpoint()->set_sha256(Sha256Hex(result.checkpoint));
        }
        client_.CompleteTrial(c);
        ++completed_;
        spdlog::info("trial {} complete: int8 accuracy {:.4f}", task.trial_id(),
                     result.metric("int8_accuracy"));
    } catch (const Cancelled&) {
        finish();
        if (!lease_lost) {
            spdlog::info("trial {}: interrupted; giving the lease back", task.trial_id());
            fail("worker " + options_.worker_id + " stopped (SIGTERM) before finishing", true);
        }
    } catch (const Error& e) {
        if (heartbeat.joinable()) finish();
        spdlog::warn("trial {} failed: {}", task.trial_id(), e.what());
        fail(e.what(), !IsCallersFault(e.code()));
    } catch (const std::exception& e) {
        if (heartbeat.joinable()) finish();
        spdlog::warn("trial {} failed: {}", task.trial_id(), e.what());
        fail(std::string("trainer error: ") + e.what(), true);
    }
}

}  // namespace hilnas::trainer
