// A fixed-size pool of libpqxx connections, created on demand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hilnas::store {

class ConnectionPool {
  public:
    // `setup` runs once on every new connection (session settings, prepared statements).
    ConnectionPool(std::string dsn, int size, std::chrono::milliseconds wait,
                   std::function<void(pqxx::connection&)> setup);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    // A connection on loan; it goes back to the pool when destroyed, unless
    // Discard() was called (after the connection broke).
    class Handle {
      public:
        Handle(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);
        Handle(Handle&& other) noexcept;
        Handle& operator=(Handle&&) = delete;
        Handle(const Handle&) = delete;
        ~Handle();
        pqxx::connection& operator*() const { return *conn_; }
        pqxx::connection* operator->() const { return conn_.get(); }
        void Discard();

      private:
        ConnectionPool* pool_;
        std::unique_ptr<pqxx::connection> conn_;
    };

    // Waits up to `wait` for a free connection, connecting a new one while the
    // pool is below its size. Throws Unavailable when none comes or the
    // database cannot be reached; a hilnas::Error from `setup` passes through.
    Handle Acquire();

  private:
    void Return(std::unique_ptr<pqxx::connection> conn);
    void Forget();

    const std::string dsn_;
    const int size_;
    const std::chrono::milliseconds wait_;
    const std::function<void(pqxx::connection&)> setup_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<pqxx::connection>> idle_;
    int open_ = 0;  // idle + on loan + being connected
};

}  // namespace hilnas::store
