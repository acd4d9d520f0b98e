#include "hilnas/common/timer.h"

namespace hilnas {

Timer::Timer(ThreadPool& pool) : pool_(pool), thread_([this] { Run(); }) {}

Timer::~Timer() { Shutdown(); }

bool Timer::After(std::chrono::milliseconds delay, std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
        due_.emplace(Clock::now() + delay, std::move(task));
    }
    cv_.notify_one();
    return true;
}

void Timer::Shutdown() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        due_.clear();
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Timer::Run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        if (due_.empty()) {
            cv_.wait(lock);
            continue;
        }
        const auto next = due_.begin()->first;
        if (Clock::now() < next) {
            cv_.wait_until(lock, next);
            continue;
        }
        auto task = std::move(due_.begin()->second);
        due_.erase(due_.begin());
        lock.unlock();
        pool_.Submit(std::move(task));
        lock.lock();
    }
}

}  // namespace hilnas
