#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/controller/server.h"

namespace hilnas::controller {

ConfigSchema MakeConfigSchema() {
    ConfigSchema schema;
    schema
        .Add({"listen", OptionType::kString, "127.0.0.1:50051",
              "gRPC address to serve on (host:port; port 0 picks a free port)"})
        .Add({"port_file", OptionType::kString, "",
              "write the bound port to this file once serving (for scripts and tests)"})
        .Add({"tls.cert", OptionType::kString, "", "PEM certificate chain; enables TLS"})
        .Add({"tls.key", OptionType::kString, "", "PEM private key for tls.cert"})
        .Add({"max_message_bytes", OptionType::kInt, "67108864",
              "largest gRPC message accepted (artifacts travel whole)"})
        .Add({"shutdown_grace", OptionType::kDuration, "10s",
              "time in-flight calls get to finish on SIGTERM"})
        .Add({"database", OptionType::kString, "",
              "PostgreSQL connection string (libpq key=value or URI); when set, the schema "
              "migrations are applied at start",
              /*secret=*/true})
        .Add({"auth.user_tokens", OptionType::kStringList, "",
              "bearer tokens of users (SearchService; each sees only their own jobs), each "
              "TOKEN or NAME:TOKEN; no tokens at all: authentication off",
              true})
        .Add({"auth.admin_tokens", OptionType::kStringList, "",
              "bearer tokens of admins (SearchService, every user's jobs)", true})
        .Add({"auth.worker_tokens", OptionType::kStringList, "",
              "bearer tokens of trainer workers (WorkService)", true})
        .Add({"auth.agent_tokens", OptionType::kStringList, "",
              "bearer tokens of board agents (FarmService)", true})
        .Add({"jobs.allow_dataset_paths", OptionType::kBool, "false",
              "accept jobs that name a dataset path on the trainers (absolute, no '..')"})
        .Add({"lease", OptionType::kDuration, "60s",
              "how long a trial lease lasts between heartbeats"})
        .Add({"heartbeat_interval", OptionType::kDuration, "15s", "how often holders should renew"})
        .Add({"long_poll_max", OptionType::kDuration, "30s",
              "longest LeaseTrial/LeaseMeasurement wait"})
        .Add({"scheduler.enabled", OptionType::kBool, "true",
              "run the job scheduler; any number of replicas may: one leads (a PostgreSQL "
              "advisory lock), the others stand by and take over when it goes"})
        .Add({"scheduler.tick", OptionType::kDuration, "1s", "time between scheduler passes"})
        .Add({"scheduler.election_interval", OptionType::kDuration, "2s",
              "how often a replica that does not lead tries to take over"})
        .Add({"scheduler.full_pass_interval", OptionType::kDuration, "5m",
              "a pass over every active job at least this often (others look only at "
              "what changed); 0: every pass"})
        .Add({"store.pool_size", OptionType::kInt, "8", "database connections"})
        .Add({"store.statement_timeout", OptionType::kDuration, "5s", "limit on every query"})
        .Add({"artifact.max_bytes", OptionType::kInt, "16777216", "largest artifact accepted"})
        .Add({"executor.threads", OptionType::kInt, "16", "threads serving RPCs' database work"});
    AddLogOptions(schema);
    return schema;
}

ServerOptions ServerOptionsFrom(const Config& config) {
    ServerOptions options;
    options.listen = config.GetString("listen");
    if (options.listen.find(':') == std::string::npos) {
        throw InvalidArgument("must be host:port, not '" + options.listen + "'", "listen");
    }
    options.tls_cert = config.GetString("tls.cert");
    options.tls_key = config.GetString("tls.key");
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        throw InvalidArgument("tls.cert and tls.key must be given together",
                              options.tls_cert.empty() ? "tls.cert" : "tls.key");
    }
    const int64_t max_bytes = config.GetInt("max_message_bytes");
    if (max_bytes < (1 << 20) || max_bytes > (1LL << 30)) {
        throw InvalidArgument("must be between 1 MiB and 1 GiB", "max_message_bytes");
    }
    options.max_message_bytes = static_cast<int>(max_bytes);
    CheckTlsFiles(options);
    return options;
}

}  // namespace hilnas::controller
