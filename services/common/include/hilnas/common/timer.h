// Runs tasks at a later time on a ThreadPool: long polls and watch streams
// re-check the database on a schedule without holding a pool thread while
// they wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "hilnas/common/thread_pool.h"

namespace hilnas {

class Timer {
  public:
    explicit Timer(ThreadPool& pool);
    ~Timer();  // drops tasks not yet due
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // Submits `task` to the pool after `delay`. False once shutting down.
    bool After(std::chrono::milliseconds delay, std::function<void()> task);
    void Shutdown();

  private:
    using Clock = std::chrono::steady_clock;
    void Run();
    ThreadPool& pool_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::multimap<Clock::time_point, std::function<void()>> due_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace hilnas
