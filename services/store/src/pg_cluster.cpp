#include "hilnas/store/pg_cluster.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "hilnas/common/errors.h"
#include "hilnas/common/subprocess.h"

namespace fs = std::filesystem;

namespace hilnas::store {

namespace {

using std::chrono::milliseconds;

std::string FindBinDir(const std::string& configured) {
    if (!configured.empty()) return configured;
    if (const char* env = std::getenv("HILNAS_PG_BINDIR"); env != nullptr && *env != '\0') {
        return env;
    }
    // Debian keeps each major version's server binaries apart; take the newest.
    std::string best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = entry.path().filename().string();
        const int version = std::atoi(name.c_str());
        if (version > best_version && fs::exists(entry.path() / "bin" / "initdb")) {
            best_version = version;
            best = (entry.path() / "bin").string();
        }
    }
    if (best.empty()) {
        throw Unavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql; install the "
            "postgresql package (deploy/install-deps.sh) or set HILNAS_PG_BINDIR");
    }
    return best;
}

std::string RandomToken(size_t length) {
    static constexpr char kAlphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device rd;
    std::uniform_int_distribution<size_t> pick(0, sizeof kAlphabet - 2);
    std::string token;
    for (size_t i = 0; i < length; ++i) token += kAlphabet[pick(rd)];
    return token;
}

std::string TailOfFile(const std::string& path, size_t lines) {
    std::ifstream in(path);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::ostringstream out;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        out << "\n  " << all[i];
    }
    return out.str();
}

void Chown(const fs::path& path, uid_t uid, gid_t gid) {
    if (::chown(path.c_str(), uid, gid) != 0) {
        throw Unavailable("cannot chown to the server's user", path.string());
    }
}

}  // namespace

int FreeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw Unavailable("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw Unavailable("cannot bind a loopback port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

PgCluster::PgCluster(PgClusterOptions options) : options_(std::move(options)) {}

PgCluster::~PgCluster() {
    try {
        Stop();
    } catch (const std::exception& e) {
        spdlog::warn("stopping the PostgreSQL cluster: {}", e.what());
    }
}

bool PgCluster::running() const { return server_ != nullptr; }

void PgCluster::Start() {
    if (server_) return;
    bin_dir_ = FindBinDir(options_.bin_dir);
    if (options_.run_as.empty() && ::geteuid() == 0) options_.run_as = "postgres";
    if (options_.base_dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "hilnas-pg-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw Unavailable("cannot create a temporary directory", tmpl);
        }
        base_dir_ = tmpl;
        temporary_ = true;
    } else {
        base_dir_ = fs::absolute(options_.base_dir).string();
        fs::create_directories(base_dir_);
    }
    fs::create_directories(fs::path(base_dir_) / "socket");
    if (!options_.run_as.empty()) {
        const passwd* pw = ::getpwnam(options_.run_as.c_str());
        if (pw == nullptr) throw Unavailable("no such user '" + options_.run_as + "'", "run_as");
        Chown(base_dir_, pw->pw_uid, pw->pw_gid);
        Chown(fs::path(base_dir_) / "socket", pw->pw_uid, pw->pw_gid);
    }
    if (!fs::exists(fs::path(base_dir_) / "data" / "PG_VERSION")) InitDb();
    std::ifstream pw_in(fs::path(base_dir_) / "password");
    std::getline(pw_in, password_);
    if (password_.empty()) {
        throw Unavailable("the cluster's password file is missing or empty",
                          (fs::path(base_dir_) / "password").string());
    }

    // Another process may take the free port between our probe and the bind.
    for (int attempt = 1;; ++attempt) {
        port_ = options_.port != 0 ? options_.port : FreeLoopbackPort();
        try {
            StartServer();
            break;
        } catch (const Unavailable&) {
            if (options_.port != 0 || attempt == 3) throw;
        }
    }
    CreateDatabase(options_.database);
    spdlog::debug("PostgreSQL cluster in {} on 127.0.0.1:{}", base_dir_, port_);
}

void PgCluster::InitDb() {
    const fs::path base(base_dir_);
    password_ = RandomToken(24);
    const fs::path pwfile = base / "password";
    {
        std::ofstream out(pwfile);
        out << password_ << "\n";
    }
    fs::permissions(pwfile, fs::perms::owner_read | fs::perms::owner_write);
    if (!options_.run_as.empty()) {
        const passwd* pw = ::getpwnam(options_.run_as.c_str());
        Chown(pwfile, pw->pw_uid, pw->pw_gid);
    }
    ProcessOptions init;
    init.argv = {bin_dir_ + "/initdb",
                 "--pgdata=" + (base / "data").string(),
                 "--username=" + options_.user,
                 "--pwfile=" + pwfile.string(),
                 "--auth-local=trust",
                 "--auth-host=scram-sha-256",
                 "--encoding=UTF8",
                 "--no-locale",
                 "--no-sync"};
    init.run_as_user = options_.run_as;
    init.env = {{"LC_ALL", "C"}};
    init.timeout = std::chrono::minutes(2);
    const ProcessResult r = RunProcess(init);
    if (!r.ok()) {
        throw Unavailable("initdb " + r.Describe() + ": " + r.err.substr(0, 2000));
    }
}

void PgCluster::StartServer() {
    const fs::path base(base_dir_);
    const std::string log = (base / "postgres.log").string();
    ProcessOptions server;
    server.argv = {bin_dir_ + "/postgres",
                   "-D",
                   (base / "data").string(),
                   "-c",
                   "listen_addresses=127.0.0.1",
                   "-c",
                   "port=" + std::to_string(port_),
                   "-c",
                   "unix_socket_directories=" + (base / "socket").string(),
                   "-c",
                   "max_connections=200"};
    for (const auto& [key, value] : options_.settings) {
        server.argv.push_back("-c");
        server.argv.push_back(key + "=" + value);
    }
    server.run_as_user = options_.run_as;
    server.env = {{"LC_ALL", "C"}};
    server_ = std::make_unique<Process>(Process::Start(server, log));

    // Ready when libpq's ping says the server accepts connections.
    const std::string ping_dsn = "host=127.0.0.1 port=" + std::to_string(port_) +
                                 " user=" + options_.user + " dbname=postgres connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (PQping(ping_dsn.c_str()) != PQPING_OK) {
        if (!server_->Running()) {
            const std::string how = DescribeWaitStatus(server_->status().value_or(0));
            server_.reset();
            throw Unavailable("postgres " + how + "; last lines of " + log + ":" +
                              TailOfFile(log, 8));
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            server_.reset();
            throw Unavailable("postgres did not accept connections within " +
                              std::to_string(options_.start_timeout.count()) + " ms; see " + log);
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
}

void PgCluster::Stop() {
    if (server_) {
        // SIGINT is PostgreSQL's fast shutdown: it does not wait for clients.
        ::kill(server_->pid(), SIGINT);
        if (!server_->WaitFor(std::chrono::seconds(30))) server_->Stop(milliseconds(1000));
        server_.reset();
    }
    if (temporary_ && !base_dir_.empty()) {
        std::error_code ec;
        fs::remove_all(base_dir_, ec);
        if (ec) spdlog::warn("cannot remove {}: {}", base_dir_, ec.message());
        base_dir_.clear();
        temporary_ = false;
    }
}

std::string PgCluster::Dsn(const std::string& database) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + options_.user +
           " password=" + password_ +
           " dbname=" + (database.empty() ? options_.database : database) + " connect_timeout=5";
}

std::string PgCluster::CreateDatabase(const std::string& database) {
    const bool ok = !database.empty() && std::all_of(database.begin(), database.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!ok) throw InvalidArgument("must be lowercase letters, digits and '_'", "database");
    pqxx::connection conn(Dsn("postgres"));
    pqxx::nontransaction tx(conn);
    const auto rows = tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", database);
    if (rows.empty()) tx.exec0("CREATE DATABASE " + tx.quote_name(database));
    return Dsn(database);
}

}  // namespace hilnas::store
