#include "hilnas/store/leader_lock.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>

#include "hilnas/common/errors.h"

namespace hilnas::store {

namespace {

// Session settings of the lock's connection. The server probes an idle
// client after 5 s and drops it after 3 unanswered probes 2 s apart, or when
// sent data stays unacknowledged for 15 s; a client probe fails the same way.
constexpr const char* kSessionSetup =
    "SELECT set_config('application_name', $1, false), "
    "set_config('statement_timeout', '5000', false), "
    "set_config('tcp_keepalives_idle', '5', false), "
    "set_config('tcp_keepalives_interval', '2', false), "
    "set_config('tcp_keepalives_count', '3', false), "
    "set_config('tcp_user_timeout', '15000', false)";

constexpr const char* kTryLock = "SELECT pg_try_advisory_lock($1::bigint) AS locked";

// Held by this session: bigint keys appear split into classid (high 32 bits)
// and objid (low 32 bits), with objsubid 1.
constexpr const char* kHeld = R"sql(
SELECT count(*) AS n FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
  AND classid::bigint = ($1::bigint >> 32) & 4294967295
  AND objid::bigint = $1::bigint & 4294967295)sql";

std::string Quote(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

// `dsn` (key=value or URI) as key=value with client-side keepalives and
// timeouts added where it sets none.
std::string WithKeepalives(const std::string& dsn) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
    if (options == nullptr) {
        PQfreemem(error);
        return dsn;  // let the connection report what is wrong with it
    }
    std::map<std::string, std::string> values;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val != nullptr) values[o->keyword] = o->val;
    }
    PQconninfoFree(options);
    const std::map<std::string, std::string> defaults = {
        {"keepalives", "1"},       {"keepalives_idle", "5"},      {"keepalives_interval", "2"},
        {"keepalives_count", "3"}, {"tcp_user_timeout", "15000"}, {"connect_timeout", "5"}};
    for (const auto& [key, value] : defaults) values.emplace(key, value);
    std::string out;
    for (const auto& [key, value] : values) out += key + "=" + Quote(value) + " ";
    return out;
}

}  // namespace

class LeaderLock::Session : public pqxx::connection {
  public:
    using pqxx::connection::connection;
};

LeaderLock::LeaderLock(std::string dsn, int64_t key, std::string application_name)
    : dsn_(std::move(dsn)), key_(key), application_name_(std::move(application_name)) {}

LeaderLock::~LeaderLock() { Drop(); }

void LeaderLock::Drop() {
    held_ = false;
    backend_pid_ = 0;
    if (!conn_) return;
    try {
        conn_->disconnect();
    } catch (const std::exception&) {
        // Closing a broken connection: nothing left to release.
    }
    conn_.reset();
}

void LeaderLock::Release() { Drop(); }

bool LeaderLock::TryAcquire() {
    if (held_) return true;
    try {
        if (!conn_) {
            conn_ = std::make_unique<Session>(WithKeepalives(dsn_));
            // libpqxx 6 would otherwise reconnect silently: a new session, without the
            // lock (Verify() would notice, since it asks for this session's locks).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            conn_->inhibit_reactivation(true);
#pragma GCC diagnostic pop
            pqxx::nontransaction tx(*conn_);
            tx.exec_params(kSessionSetup, application_name_);
            backend_pid_ = conn_->backendpid();
        }
        pqxx::nontransaction tx(*conn_);
        held_ = tx.exec_params1(kTryLock, key_)["locked"].as<bool>();
        return held_;
    } catch (const std::exception& e) {
        Drop();
        std::string why = std::string(e.what()).substr(0, 300);
        std::replace(why.begin(), why.end(), '\n', ' ');
        throw Unavailable("cannot reach the database for the leader lock: " + why, "database");
    }
}

bool LeaderLock::Verify() {
    if (!held_ || !conn_) return false;
    try {
        pqxx::nontransaction tx(*conn_);
        if (tx.exec_params1(kHeld, key_)["n"].as<int>() == 1) return true;
        spdlog::error("leader lock {:#x}: the session no longer holds it", key_);
    } catch (const std::exception& e) {
        spdlog::warn("leader lock {:#x}: connection failed: {}", key_, e.what());
    }
    Drop();
    return false;
}

bool LeaderLock::Alive() {
    if (!held_ || !conn_) return false;
    try {
        conn_->get_notifs();  // consumes pending input; throws when the server has gone
        if (conn_->is_open()) return true;
    } catch (const std::exception& e) {
        spdlog::warn("leader lock {:#x}: connection lost: {}", key_, e.what());
    }
    Drop();
    return false;
}

}  // namespace hilnas::store
