#include "hilnas/common/thread_pool.h"

#include <spdlog/spdlog.h>

namespace hilnas {

ThreadPool::ThreadPool(size_t threads, std::string name) : name_(std::move(name)) {
    threads_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::Submit(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void ThreadPool::Shutdown() {
    {
        std::lock_guard lock(mu_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

size_t ThreadPool::queued() const {
    std::lock_guard lock(mu_);
    return tasks_.size();
}

void ThreadPool::Run() {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            spdlog::error("{}: a task threw: {}", name_, e.what());
        }
    }
}

}  // namespace hilnas
