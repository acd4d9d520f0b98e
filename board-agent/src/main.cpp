// hilnas-agent: the board agent of a lab host.
//
//   hilnas-agent [serve] --controller HOST:PORT [--inventory boards.yaml] [--token T]
//   hilnas-agent measure --artifact model.hnm [--inventory boards.yaml] [--board ID]
//                        [--dataset fashion-mnist] [--runs N] [--warmups W] [--check_inputs K]
//   hilnas-agent probes
//   hilnas-agent check [--inventory boards.yaml] [--board ID] [--controller HOST:PORT --token T]
//
// Without --inventory the agent has one emulated board (qemu-0, an STM32F405
// under QEMU). Every failure is one line on stderr and a non-zero exit: 2 for
// a bad argument, inventory or artifact, 1 for the world's failures.
#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "hilnas/agent/agent.h"
#include "hilnas/agent/board.h"
#include "hilnas/agent/health.h"
#include "hilnas/agent/lpm01a.h"
#include "hilnas/agent/measure.h"
#include "hilnas/agent/probes.h"
#include "hilnas/arch/model.h"
#include "hilnas/artifact/artifact.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/common/config.h"
#include "hilnas/common/errors.h"
#include "hilnas/common/logging.h"
#include "hilnas/common/text.h"
#include "hilnas/common/version.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/rpc/controller_client.h"

namespace {

using hilnas::Config;
using hilnas::ConfigSchema;
using hilnas::InvalidArgument;
using hilnas::OptionType;
namespace agent = hilnas::agent;

std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop.store(true); }

const char* kUsage =
    "usage: hilnas-agent [serve] --controller HOST:PORT [--inventory boards.yaml] [options]\n"
    "       hilnas-agent measure --artifact model.hnm [--inventory boards.yaml] [--board ID]\n"
    "       hilnas-agent probes\n"
    "       hilnas-agent check [--inventory boards.yaml] [--board ID] [--controller HOST:PORT]\n"
    "(each takes --help)\n";

void AddCommon(ConfigSchema& s) {
    s.Add({"inventory", OptionType::kString, "",
           "the lab's boards (YAML); empty: one emulated board, qemu-0"});
    s.Add({"cache_dir", OptionType::kString, "",
           "firmware cache (default $XDG_CACHE_HOME/hilnas/firmware)"});
    s.Add({"kernels", OptionType::kString, "cortex_m", "cortex_m (DSP) or reference"});
    hilnas::AddLogOptions(s);
}

void InitLog(const Config& c, const char* default_level) {
    hilnas::InitLogging("hilnas-agent", hilnas::LogOptionsFrom(c, default_level));
}

agent::Inventory InventoryOf(const Config& c) {
    return c.GetString("inventory").empty() ? agent::DefaultInventory()
                                            : agent::LoadInventory(c.GetString("inventory"));
}

std::string Kernels(const Config& c) {
    const std::string k = c.GetString("kernels");
    if (k != "cortex_m" && k != "reference") {
        throw InvalidArgument("must be cortex_m or reference", "kernels");
    }
    return k;
}

const agent::BoardConfig& PickBoard(const agent::Inventory& inv, const std::string& id) {
    if (id.empty()) {
        if (inv.boards.size() == 1) return inv.boards.front();
        throw InvalidArgument(
            "is required: the inventory has " + std::to_string(inv.boards.size()) + " boards",
            "board");
    }
    std::string ids;
    for (const auto& b : inv.boards) {
        if (b.id == id) return b;
        ids += (ids.empty() ? "" : ", ") + b.id;
    }
    throw InvalidArgument("no board '" + id + "' in the inventory (" + ids + ")", "board");
}

// Proto3's JSON writes 64-bit integers as strings; a person (and jq) wants numbers.
void Int64sAsNumbers(const google::protobuf::Descriptor& d, nlohmann::ordered_json& j) {
    using FD = google::protobuf::FieldDescriptor;
    for (int i = 0; i < d.field_count(); ++i) {
        const FD& f = *d.field(i);
        if (!j.contains(f.name())) continue;
        nlohmann::ordered_json& v = j[f.name()];
        if (f.cpp_type() == FD::CPPTYPE_MESSAGE && v.is_object()) {
            Int64sAsNumbers(*f.message_type(), v);
        } else if (f.cpp_type() == FD::CPPTYPE_INT64 && v.is_string()) {
            v = std::stoll(v.get<std::string>());
        } else if (f.cpp_type() == FD::CPPTYPE_UINT64 && v.is_string()) {
            v = std::stoull(v.get<std::string>());
        }
    }
}

nlohmann::ordered_json MeasurementJson(const hilnas::v1::Measurement& m) {
    std::string text;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    o.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(m, &text, o);
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
    Int64sAsNumbers(*hilnas::v1::Measurement::descriptor(), j);
    return j;
}

int Serve(const std::vector<std::string>& args) {
    ConfigSchema s;
    AddCommon(s);
    hilnas::rpc::AddControllerClientOptions(s, "agent bearer token");
    s.Add({"agent_id", OptionType::kString, "", "agent id (default: the inventory's, else host)"});
    hilnas::dataset::AddDatasetsOption(s, "the check inputs come from their validation splits");
    hilnas::rpc::AddLeaseWaitOption(s);
    s.Add({"max_measurements", OptionType::kInt, "0", "stop after this many (0: never)"});
    s.Add({"upload_firmware", OptionType::kBool, "true", "store each measured ELF"});
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-agent serve: options\n" << s.Help();
        return 0;
    }
    InitLog(c, "info");
    const hilnas::rpc::ControllerClientOptions controller =
        hilnas::rpc::ControllerClientOptionsFrom(c);
    const agent::Inventory inv = InventoryOf(c);
    agent::AgentOptions o;
    o.agent_id = c.GetString("agent_id");
    o.cache_dir = c.GetString("cache_dir");
    o.datasets = hilnas::dataset::Locations::FromConfig(c);
    o.runtime_variant = Kernels(c);
    o.lease_wait = c.GetDuration("lease_wait");
    o.max_measurements = static_cast<int>(c.GetInt("max_measurements"));
    o.upload_firmware = c.GetBool("upload_firmware");
    auto client = agent::MakeGrpcFarmClient(controller);
    spdlog::info("hilnas-agent {} serving {} board(s) for {}", hilnas::Version(), inv.boards.size(),
                 controller.address);
    agent::Agent a(inv, *client, o);
    const int done = a.Run(g_stop);
    spdlog::info("stopped after {} measurements", done);
    return 0;
}

int Measure(const std::vector<std::string>& args) {
    ConfigSchema s;
    AddCommon(s);
    s.Add({"board", OptionType::kString, "", "board id (optional when the inventory has one)"});
    s.Add({"artifact", OptionType::kString, "", "the int8 model artifact (.hnm); required"});
    s.Add({"dataset", OptionType::kString, "",
           "check inputs from this dataset's validation split (default: the first known "
           "dataset of the model's input shape, else seeded random inputs)"});
    s.Add({"data_dir", OptionType::kString, "", "the dataset's directory"});
    s.Add({"runs", OptionType::kInt, "5", "timed inferences"});
    s.Add({"warmups", OptionType::kInt, "1", "warm-up inferences"});
    s.Add({"check_inputs", OptionType::kInt, "3", "inputs whose outputs are checked"});
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-agent measure: options\n" << s.Help();
        return 0;
    }
    InitLog(c, "warn");
    if (c.GetString("artifact").empty()) throw InvalidArgument("is required", "artifact");
    const int64_t runs = c.GetInt("runs"), warmups = c.GetInt("warmups"),
                  k = c.GetInt("check_inputs");
    if (runs < 1 || runs > 10000) throw InvalidArgument("must be in [1, 10000]", "runs");
    if (warmups < 0 || warmups > 10000) throw InvalidArgument("must be in [0, 10000]", "warmups");
    if (k < 1 || k > 1000) throw InvalidArgument("must be in [1, 1000]", "check_inputs");
    const agent::Inventory inv = InventoryOf(c);
    const agent::BoardConfig& board = PickBoard(inv, c.GetString("board"));
    agent::MeasureRequest req;
    try {
        req.model = hilnas::artifact::ReadArtifact(c.GetString("artifact"));
    } catch (const hilnas::Error& e) {
        throw InvalidArgument(e.message(), "artifact");
    }
    req.settings.set_warmup_runs(static_cast<int>(warmups));
    req.settings.set_timed_runs(static_cast<int>(runs));
    req.settings.set_check_inputs(static_cast<int>(k));
    req.runtime_variant = Kernels(c);
    const hilnas::arch::Shape in =
        hilnas::arch::Analyze(hilnas::arch::ModelFromProto(req.model.model())).tensors.front();
    std::string dataset = c.GetString("dataset");
    // No dataset named: the first known one of the model's input shape.
    for (const hilnas::dataset::Spec& d : hilnas::dataset::KnownDatasets()) {
        if (!dataset.empty()) break;
        if (d.shape.h == in.h && d.shape.w == in.w && d.shape.c == in.c) dataset = d.name;
    }
    if (!dataset.empty()) {
        hilnas::dataset::Options o;
        o.name = dataset;
        o.path = c.GetString("data_dir");
        o.validation_limit = k;
        const hilnas::dataset::Dataset d = hilnas::dataset::Load(o);
        if (!(d.shape.h == in.h && d.shape.w == in.w && d.shape.c == in.c)) {
            throw InvalidArgument("the model takes " + std::to_string(in.h) + "x" +
                                      std::to_string(in.w) + "x" + std::to_string(in.c) + "; " +
                                      dataset + " images are " + std::to_string(d.shape.h) + "x" +
                                      std::to_string(d.shape.w) + "x" + std::to_string(d.shape.c),
                                  "dataset");
        }
        for (int64_t i = 0; i < k; ++i)
            req.inputs.push_back(hilnas::dataset::Int8Input(d.validation, i));
        req.inputs_source = dataset + " validation[0.." + std::to_string(k - 1) + "]";
    } else {
        std::mt19937_64 rng(1);
        for (int64_t i = 0; i < k; ++i) {
            std::vector<int8_t> x(static_cast<size_t>(in.elements()));
            for (auto& v : x) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
            req.inputs.push_back(std::move(x));
        }
        req.inputs_source = "seeded random inputs";
    }
    agent::AgentOptions ao;
    ao.cache_dir = c.GetString("cache_dir");
    agent::FirmwareCache cache(agent::ResolveCacheDir(ao));
    auto connection = agent::Connect(board);
    auto meter = agent::ConnectMeter(board);
    agent::Measurer measurer(board, *connection, cache, meter.get(),
                             agent::ResolveAgentId(ao, inv));
    try {
        const agent::MeasureResult r = measurer.Measure(req);
        nlohmann::ordered_json j = MeasurementJson(r.measurement);
        j["check_inputs_source"] = req.inputs_source;
        j["firmware_elf"] = r.elf_path;
        j["seconds"] = {{"codegen", r.time.codegen},       {"compile", r.time.compile},
                        {"flash_boot", r.time.flash_boot}, {"inference", r.time.inference},
                        {"energy", r.time.energy},         {"cache_hit", r.time.cache_hit}};
        std::cout << j.dump() << "\n";
        return 0;
    } catch (const agent::MeasureError& e) {
        std::cerr << "hilnas-agent: measurement failed (" << agent::FailureKindName(e.kind())
                  << "): " << e.what() << "\n";
        return e.kind() == agent::FailureKind::kInfeasible ? 3 : 1;
    }
}

int Probes(const std::vector<std::string>& args) {
    ConfigSchema s;
    s.Add({"pyocd", OptionType::kString, "pyocd", "the pyocd program"});
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-agent probes: options\n" << s.Help();
        return 0;
    }
    agent::ProbeListOptions o;
    o.pyocd = c.GetString("pyocd");
    const auto probes = agent::ListProbes(o);
    for (const auto& p : probes) {
        nlohmann::ordered_json j = {{"serial", p.serial},
                                    {"description", p.description},
                                    {"usb_id", p.vendor_product},
                                    {"seen_by", p.source}};
        std::cout << j.dump() << "\n";
    }
    if (probes.empty()) std::cerr << "hilnas-agent: no debug probes attached\n";
    return 0;
}

int Check(const std::vector<std::string>& args) {
    ConfigSchema s;
    AddCommon(s);
    s.Add({"board", OptionType::kString, "", "check only this board"});
    hilnas::rpc::AddControllerClientOptions(s, "agent bearer token",
                                            "report the results to this controller");
    s.Add({"agent_id", OptionType::kString, "", "agent id (default: the inventory's, else host)"});
    const auto c = Config::Load(s, args, hilnas::ProcessEnvironment());
    if (c.help_requested()) {
        std::cout << "hilnas-agent check: options\n" << s.Help();
        return 0;
    }
    InitLog(c, "warn");
    const agent::Inventory inv = InventoryOf(c);
    std::vector<agent::BoardConfig> boards = inv.boards;
    if (!c.GetString("board").empty()) boards = {PickBoard(inv, c.GetString("board"))};
    agent::AgentOptions ao;
    ao.agent_id = c.GetString("agent_id");
    ao.cache_dir = c.GetString("cache_dir");
    const std::string agent_id = agent::ResolveAgentId(ao, inv);
    agent::FirmwareCache cache(agent::ResolveCacheDir(ao));
    std::unique_ptr<agent::FarmClient> client;
    const hilnas::rpc::ControllerClientOptions controller =
        hilnas::rpc::ControllerClientOptionsFrom(c, /*required=*/false);
    if (!controller.address.empty()) client = agent::MakeGrpcFarmClient(controller);
    bool all = true;
    for (const agent::BoardConfig& b : boards) {
        agent::HealthResult h;
        try {
            auto connection = agent::Connect(b);
            agent::Measurer measurer(b, *connection, cache, nullptr, agent_id);
            h = agent::CheckHealth(measurer);
        } catch (const hilnas::Error& e) {
            h.reason = std::string("health check failed: ") + e.what();
        }
        all = all && h.ok;
        std::cout << nlohmann::ordered_json({{"board_id", b.id},
                                             {"board_type", b.type},
                                             {"health", h.ok ? "good" : "bad"},
                                             {"reason", h.reason},
                                             {"seconds", h.seconds}})
                         .dump()
                  << "\n";
        if (client) {
            hilnas::v1::ReportBoardHealthRequest r;
            r.set_agent_id(agent_id);
            r.set_board_id(b.id);
            r.set_health(h.ok ? hilnas::v1::BOARD_HEALTH_GOOD : hilnas::v1::BOARD_HEALTH_BAD);
            r.set_reason(hilnas::TruncateUtf8("hilnas-agent check: " + h.reason, 1000));
            client->ReportBoardHealth(r);
        }
    }
    return all ? 0 : 1;
}

}  // namespace

// Only the service stops gracefully; the one-shot commands end on a signal,
// and their children (QEMU, the compiler) die with them (PR_SET_PDEATHSIG).
void StopOnSignals() {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
}

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    try {
        const std::string cmd = args.front();
        const std::vector<std::string> rest(args.begin() + 1, args.end());
        if (cmd == "serve" || cmd.rfind("--", 0) == 0) StopOnSignals();
        if (cmd == "serve") return Serve(rest);
        if (cmd == "measure") return Measure(rest);
        if (cmd == "probes") return Probes(rest);
        if (cmd == "check") return Check(rest);
        if (cmd == "--help" || cmd == "-h" || cmd == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (cmd.rfind("--", 0) == 0) return Serve(args);
        std::cerr << "hilnas-agent: unknown command '" << cmd << "'\n" << kUsage;
        return 2;
    } catch (const hilnas::Error& e) {
        std::cerr << "hilnas-agent: " << e.what() << "\n";
        return hilnas::IsCallersFault(e.code()) ? 2 : 1;
    } catch (const std::exception& e) {
        std::cerr << "hilnas-agent: " << e.what() << "\n";
        return 1;
    }
}
