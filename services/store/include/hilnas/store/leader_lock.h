// Leadership among processes that share one database: a PostgreSQL
// session-level advisory lock (pg_try_advisory_lock) held on a connection of
// its own. The lock lives exactly as long as that session: when the holder
// exits, is killed, or its connection drops, the server releases it and
// another process's TryAcquire() succeeds. The session asks the server for TCP
// keepalives and a TCP user timeout, and the client sets its own, so a holder
// whose host vanishes loses the lock within about 15 s instead of hours.
//
// Lock keys (bigint), "hilnas" in ASCII followed by a 16-bit number:
//   0x68696c6e61730001  the schema migrations (migrations.cpp)
//   0x68696c6e61730002  the job scheduler's leader (kSchedulerLeaderLock)
//
// Not thread-safe: one thread drives it; backend_pid() may be read from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace hilnas::store {

inline constexpr int64_t kSchedulerLeaderLock = 0x68696c6e61730002;

class LeaderLock {
  public:
    LeaderLock(std::string dsn, int64_t key, std::string application_name);
    ~LeaderLock();
    LeaderLock(const LeaderLock&) = delete;
    LeaderLock& operator=(const LeaderLock&) = delete;

    // Connects when needed and tries for the lock without waiting. True when
    // this process holds it (already, or from now on). Throws Unavailable when
    // the database cannot be reached; the lock is then not held.
    bool TryAcquire();
    // A round trip on the lock's connection: true while the lock is still held
    // by this session. False when the connection has failed (the lock is gone).
    bool Verify();
    // Without a round trip: false when the server has closed the connection
    // (reads what it sent meanwhile without blocking). Cheap enough to call
    // between any two steps of work done under the lock.
    bool Alive();
    // Gives the lock up by closing the connection.
    void Release();

    bool held() const { return held_; }
    // The server process of the lock's session (0: none), so that tests can
    // terminate it (pg_terminate_backend) as a dropped connection would.
    int backend_pid() const { return backend_pid_.load(); }
    int64_t key() const { return key_; }

  private:
    class Session;  // the lock's connection (libpqxx, kept out of this header)
    void Drop();

    const std::string dsn_;
    const int64_t key_;
    const std::string application_name_;
    std::unique_ptr<Session> conn_;  // kept between attempts
    bool held_ = false;
    std::atomic<int> backend_pid_{0};
};

}  // namespace hilnas::store
