// hilnas local db: a private PostgreSQL cluster for a one-machine stack, in
// the foreground until SIGTERM/SIGINT. Its DSN is printed and written to
// DIR/dsn (mode 0600: it holds the password).
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "commands.h"
#include "hilnas/common/errors.h"
#include "hilnas/store/pg_cluster.h"

namespace hilnas::cli {

int Local(const Args& args) {
    if (args.empty() || args[0] != "db") {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::cout << "usage: hilnas local db [--dir DIR] [--port N]\n";
            return 0;
        }
        throw InvalidArgument("give db (see hilnas local --help)",
                              args.empty() ? "subcommand" : args[0]);
    }
    ConfigSchema schema;
    schema.Add({"dir", OptionType::kString, ".hilnas/local/pg", "where the cluster lives"})
        .Add({"port", OptionType::kInt, "0", "loopback port (0: a free one)"});
    Config config;
    if (!LoadOrHelp("hilnas local db [--dir DIR] [--port N]", schema,
                    Args(args.begin() + 1, args.end()), config)) {
        return 0;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    store::PgClusterOptions options;
    options.base_dir = config.GetString("dir");
    options.port = static_cast<int>(config.GetInt("port"));
    store::PgCluster cluster(options);
    cluster.Start();
    const std::string dsn_file = cluster.base_dir() + "/dsn";
    {
        std::ofstream out(dsn_file + ".tmp");
        out << cluster.Dsn() << "\n";
    }
    ::chmod((dsn_file + ".tmp").c_str(), 0600);
    std::rename((dsn_file + ".tmp").c_str(), dsn_file.c_str());
    std::cout << cluster.Dsn() << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    std::remove(dsn_file.c_str());
    cluster.Stop();
    return 0;
}

}  // namespace hilnas::cli
