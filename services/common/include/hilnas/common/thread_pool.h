// A fixed pool of threads running submitted tasks in order of submission.
// gRPC callback handlers hand their blocking work (database calls, long
// polls) to one, so the handler itself returns at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hilnas {

class ThreadPool {
  public:
    ThreadPool(size_t threads, std::string name);
    // Finishes the tasks already submitted, then joins.
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // False (and the task is dropped) once the pool is shutting down.
    bool Submit(std::function<void()> task);
    // Stops taking tasks, runs what is queued, joins. Idempotent.
    void Shutdown();
    size_t queued() const;

  private:
    void Run();
    std::string name_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace hilnas
