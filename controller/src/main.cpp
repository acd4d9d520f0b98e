// hilnas-controller: serves SearchService, WorkService and FarmService.
//
//   hilnas-controller [--config FILE] [--listen HOST:PORT] [...]   serve
//   hilnas-controller --help
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/common/version.h"
#include "hilnas/controller/server.h"

namespace {

void WritePortFile(const std::string& path, int port) {
    if (path.empty()) return;
    // Write then rename, so a reader never sees a half-written file.
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << port << "\n";
        if (!out) throw hilnas::Unavailable("cannot write", "port_file");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw hilnas::Unavailable("cannot rename " + tmp, "port_file");
    }
}

int Serve(const hilnas::Config& config) {
    using namespace hilnas;
    InitLogging("controller", LogOptions{ParseLogFormat(config.GetString("log.format")),
                                         ParseLogLevel(config.GetString("log.level"))});
    const controller::ServerOptions options = controller::ServerOptionsFrom(config);

    // Block the shutdown signals in every thread; one thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    spdlog::info("hilnas-controller {} starting; config: {}", Version(), config.Describe());
    controller::ControllerServer server(options);
    server.Start();
    WritePortFile(config.GetString("port_file"), server.port());
    const std::string host = options.listen.substr(0, options.listen.rfind(':'));
    spdlog::info("serving on {}:{} ({})", host, server.port(),
                 options.tls_cert.empty() ? "plaintext" : "TLS");

    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("{} received: shutting down (grace {} ms)",
                 received == SIGTERM ? "SIGTERM" : "SIGINT",
                 config.GetDuration("shutdown_grace").count());
    server.Shutdown(config.GetDuration("shutdown_grace"));
    spdlog::info("stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        const hilnas::ConfigSchema schema = hilnas::controller::MakeConfigSchema();
        const hilnas::Config config =
            hilnas::Config::Load(schema, args, hilnas::ProcessEnvironment());
        if (config.help_requested()) {
            std::cout << "usage: hilnas-controller [options]\n\n" << schema.Help();
            return 0;
        }
        if (!config.positional().empty()) {
            throw hilnas::InvalidArgument("unexpected argument (see --help)",
                                          config.positional().front());
        }
        return Serve(config);
    } catch (const hilnas::Error& e) {
        std::cerr << "hilnas-controller: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "hilnas-controller: internal error: " << e.what() << "\n";
        return 70;
    }
}
