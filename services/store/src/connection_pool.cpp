#include "connection_pool.h"

#include <spdlog/spdlog.h>

#include "hilnas/common/errors.h"

namespace hilnas::store {

ConnectionPool::ConnectionPool(std::string dsn, int size, std::chrono::milliseconds wait,
                               std::function<void(pqxx::connection&)> setup)
    : dsn_(std::move(dsn)), size_(size), wait_(wait), setup_(std::move(setup)) {
    if (size_ < 1) throw InvalidArgument("must be at least 1", "pool_size");
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Handle::Handle(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

ConnectionPool::Handle::Handle(Handle&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {}

ConnectionPool::Handle::~Handle() {
    if (conn_ == nullptr) return;
    if (conn_->is_open()) {
        pool_->Return(std::move(conn_));
    } else {
        Discard();
    }
}

void ConnectionPool::Handle::Discard() {
    if (conn_ == nullptr) return;
    conn_.reset();
    pool_->Forget();
}

ConnectionPool::Handle ConnectionPool::Acquire() {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < size_; })) {
        throw Unavailable("no database connection became free within " +
                          std::to_string(wait_.count()) + " ms");
    }
    if (!idle_.empty()) {
        std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Handle(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    try {
        auto conn = std::make_unique<pqxx::connection>(dsn_);
        setup_(*conn);
        return Handle(this, std::move(conn));
    } catch (const Error&) {
        Forget();  // e.g. a schema that is too old: the caller's to fix, not a retry
        throw;
    } catch (const std::exception& e) {
        Forget();
        // libpq's message names the host and port, never the password; it goes
        // to the log, and the caller gets the canonical error.
        spdlog::warn("cannot connect to the database: {}", e.what());
        throw Unavailable("the database cannot be reached");
    }
}

void ConnectionPool::Return(std::unique_ptr<pqxx::connection> conn) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(conn));
    }
    available_.notify_one();
}

void ConnectionPool::Forget() {
    {
        std::lock_guard lock(mutex_);
        --open_;
    }
    available_.notify_one();
}

}  // namespace hilnas::store
