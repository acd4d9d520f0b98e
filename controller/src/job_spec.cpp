#include "hilnas/controller/job_spec.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "hilnas/arch/cost.h"
#include "hilnas/catalog/boards.h"
#include "hilnas/catalog/jobs.h"
#include "hilnas/catalog/objectives.h"
#include "hilnas/common/errors.h"
#include "hilnas/dataset/dataset.h"
#include "hilnas/v1/trial.pb.h"

namespace hilnas::controller {

DatasetInfo DatasetFor(const std::string& name, const std::string& field) {
    try {
        const dataset::Spec& d = dataset::FindDataset(name);
        return {d.shape, d.classes};
    } catch (const InvalidArgument& e) {
        throw InvalidArgument(e.message(), field);
    }
}

arch::SearchSpace SpaceOf(const v1::JobSpec& spec) {
    const DatasetInfo d = DatasetFor(spec.dataset().name());
    arch::SearchSpace space = arch::SpaceFromProto(spec.search_space(), d.input, d.classes);
    return space;
}

namespace {

void RequirePrintable(const std::string& text, const std::string& field) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            throw InvalidArgument("must not contain control characters", field);
        }
    }
}

// The default recipe for every candidate: zero means "the trainer's default".
void ValidateTraining(const v1::TrainingRecipe& t, const std::string& at) {
    if (!v1::TrainOptimizer_IsValid(t.optimizer())) {
        throw InvalidArgument("unknown optimizer", at + ".optimizer");
    }
    const std::pair<double, const char*> rates[] = {{t.learning_rate(), "learning_rate"},
                                                    {t.weight_decay(), "weight_decay"}};
    for (const auto& [v, name] : rates) {
        if (!(std::isfinite(v) && v >= 0 && v <= 10)) {
            throw InvalidArgument("must be in [0, 10]", at + "." + name);
        }
    }
    if (!(std::isfinite(t.momentum()) && t.momentum() >= 0 && t.momentum() < 1)) {
        throw InvalidArgument("must be in [0, 1)", at + ".momentum");
    }
    if (!(std::isfinite(t.label_smoothing()) && t.label_smoothing() >= 0 &&
          t.label_smoothing() < 1)) {
        throw InvalidArgument("must be in [0, 1)", at + ".label_smoothing");
    }
    if (t.epochs() < 0 || t.epochs() > 1000) {
        throw InvalidArgument("must be in [0, 1000]", at + ".epochs");
    }
    if (t.batch_size() < 0 || t.batch_size() > 65536) {
        throw InvalidArgument("must be in [0, 65536]", at + ".batch_size");
    }
    if (t.train_limit() < 0) throw InvalidArgument("must be >= 0", at + ".train_limit");
}

// MACs of the largest model the space holds: every block at its widest and
// largest kernel, no downsampling where the space allows it, the widest head.
int64_t LargestMacs(const arch::SearchSpace& space) {
    arch::Point p;
    for (int i = 0; i < space.blocks.max; ++i) {
        arch::Block b;
        b.kind = space.block_kinds.front();
        b.channels = space.channels.max;
        b.kernel = *std::max_element(space.kernel_sizes.begin(), space.kernel_sizes.end());
        b.down = space.downsampling.front();
        for (auto d : space.downsampling) {
            if (d == arch::Downsample::kNone) b.down = d;
        }
        b.expansion = *std::max_element(space.expansions.begin(), space.expansions.end());
        p.blocks.push_back(b);
    }
    p.head = space.heads.front();
    for (int i = 0; i < space.dense_layers.max; ++i) p.dense.push_back({space.dense_units.max, 8});
    try {
        const arch::Model model = arch::BuildModel(space, arch::Normalize(space, p));
        return arch::ComputeCost(arch::Analyze(model)).macs;
    } catch (const Error&) {
        // A space whose widest corner is not a valid model: the largest of a
        // fixed sample stands in (deterministic, so the reference is too).
        std::mt19937_64 rng(1);
        int64_t most = 1;
        for (int i = 0; i < 256; ++i) {
            try {
                const arch::Model m = arch::BuildModel(space, arch::Sample(space, rng));
                most = std::max(most, arch::ComputeCost(arch::Analyze(m)).macs);
            } catch (const Error&) {
            }
        }
        return most;
    }
}

}  // namespace

std::vector<double> ReferencePointOf(const v1::JobSpec& spec) {
    if (spec.reference_point_size() > 0) {
        return {spec.reference_point().begin(), spec.reference_point().end()};
    }
    const v1::Constraints& c = spec.constraints();
    const catalog::BoardType& board = catalog::FindBoardType(spec.board_type(), "spec.board_type");
    int64_t largest = -1;  // computed once, when an objective needs it
    auto macs = [&] {
        if (largest < 0) largest = std::max<int64_t>(LargestMacs(SpaceOf(spec)), 1);
        return static_cast<double>(largest);
    };
    auto latency_ms = [&] {
        return c.has_max_latency_ms() ? c.max_latency_ms()
                                      : 10.0 * macs() / static_cast<double>(board.cpu_hz) * 1e3;
    };
    std::vector<double> ref;
    for (int o : spec.objectives()) {
        switch (static_cast<v1::Objective>(o)) {
            case v1::OBJECTIVE_ERROR:
                ref.push_back(c.has_max_error() ? c.max_error() : 1.0);
                break;
            case v1::OBJECTIVE_FLASH_BYTES:
                ref.push_back(static_cast<double>(c.has_max_flash_bytes() ? c.max_flash_bytes()
                                                                          : board.flash_bytes));
                break;
            case v1::OBJECTIVE_SRAM_BYTES:
                ref.push_back(static_cast<double>(c.has_max_sram_bytes() ? c.max_sram_bytes()
                                                                         : board.sram_bytes));
                break;
            case v1::OBJECTIVE_MACS:
                ref.push_back(c.has_max_macs() ? static_cast<double>(c.max_macs()) : macs());
                break;
            case v1::OBJECTIVE_MODEL_SIZE_BYTES:  // weights live in flash
                ref.push_back(static_cast<double>(c.has_max_flash_bytes() ? c.max_flash_bytes()
                                                                          : board.flash_bytes));
                break;
            case v1::OBJECTIVE_LATENCY_MS:
                ref.push_back(latency_ms());
                break;
            case v1::OBJECTIVE_ENERGY_UJ:
                ref.push_back(c.has_max_energy_uj()
                                  ? c.max_energy_uj()
                                  : catalog::EstimatedEnergyUj(board, latency_ms()));
                break;
            default:
                throw InvalidArgument("unknown objective", "spec.objectives");
        }
    }
    return ref;
}

v1::JobSpec NormalizeJobSpec(const v1::JobSpec& in) {
    v1::JobSpec s = in;
    if (s.name().size() > 200) throw InvalidArgument("must be at most 200 characters", "spec.name");
    RequirePrintable(s.name(), "spec.name");
    if (s.dataset().name().size() > 64) {
        throw InvalidArgument("must be at most 64 characters", "spec.dataset.name");
    }
    if (s.dataset().path().size() > 4096) {
        throw InvalidArgument("must be at most 4096 characters", "spec.dataset.path");
    }
    RequirePrintable(s.dataset().path(), "spec.dataset.path");
    for (const auto& part : std::filesystem::path(s.dataset().path())) {
        if (part == "..") {
            throw InvalidArgument("must not climb out with '..'", "spec.dataset.path");
        }
    }
    ValidateTraining(s.training(), "spec.training");
    if (s.dataset().name().empty()) s.mutable_dataset()->set_name(dataset::kDefaultDataset);
    DatasetFor(s.dataset().name());
    if (s.dataset().validation_fraction() == 0) s.mutable_dataset()->set_validation_fraction(0.1);
    if (!(s.dataset().validation_fraction() > 0 && s.dataset().validation_fraction() < 0.5)) {
        throw InvalidArgument("must be in (0, 0.5)", "spec.dataset.validation_fraction");
    }
    if (s.board_type().empty()) s.set_board_type(std::string(catalog::kDefaultBoardType));
    const catalog::BoardType& limits = catalog::FindBoardType(s.board_type(), "spec.board_type");

    // Objectives: distinct, specified; the defaults are SpArSe's three.
    if (s.objectives().empty()) {
        s.add_objectives(v1::OBJECTIVE_ERROR);
        s.add_objectives(v1::OBJECTIVE_FLASH_BYTES);
        s.add_objectives(v1::OBJECTIVE_SRAM_BYTES);
    }
    catalog::CheckObjectives(std::vector<int>(s.objectives().begin(), s.objectives().end()),
                             s.measurement().skip());

    // Constraints: positive where set; the board's own limits always apply.
    const auto& c = s.constraints();
    if (c.has_max_sram_bytes() && c.max_sram_bytes() <= 0) {
        throw InvalidArgument("must be positive", "spec.constraints.max_sram_bytes");
    }
    if (c.has_max_flash_bytes() && c.max_flash_bytes() <= 0) {
        throw InvalidArgument("must be positive", "spec.constraints.max_flash_bytes");
    }
    if (c.has_max_latency_ms() && !(c.max_latency_ms() > 0 && std::isfinite(c.max_latency_ms()))) {
        throw InvalidArgument("must be positive and finite", "spec.constraints.max_latency_ms");
    }
    if (c.has_max_energy_uj() && !(c.max_energy_uj() > 0 && std::isfinite(c.max_energy_uj()))) {
        throw InvalidArgument("must be positive and finite", "spec.constraints.max_energy_uj");
    }
    if (c.has_max_error() && !(c.max_error() > 0 && c.max_error() <= 1)) {
        throw InvalidArgument("must be in (0, 1]", "spec.constraints.max_error");
    }
    if (c.has_max_macs() && c.max_macs() <= 0) {
        throw InvalidArgument("must be positive", "spec.constraints.max_macs");
    }
    auto* cc = s.mutable_constraints();
    cc->set_max_sram_bytes(std::min<int64_t>(
        c.has_max_sram_bytes() ? c.max_sram_bytes() : limits.sram_bytes, limits.sram_bytes));
    cc->set_max_flash_bytes(std::min<int64_t>(
        c.has_max_flash_bytes() ? c.max_flash_bytes() : limits.flash_bytes, limits.flash_bytes));

    // The search space, validated with the dataset's shape.
    try {
        const DatasetInfo d = DatasetFor(s.dataset().name());
        arch::SpaceToProto(arch::SpaceFromProto(s.search_space(), d.input, d.classes),
                           s.mutable_search_space());
    } catch (const InvalidArgument& e) {
        const std::string field =
            e.field().rfind("search_space", 0) == 0 ? "spec." + e.field() : "spec.search_space";
        throw InvalidArgument(e.message(), field);
    }

    // Budget.
    auto* b = s.mutable_budget();
    if (b->max_trials() == 0) b->set_max_trials(20);
    if (b->max_parallel_trials() == 0) b->set_max_parallel_trials(2);
    b->set_max_attempts(catalog::ResolveMaxAttempts(b->max_attempts()));
    if (b->max_trials() < 1 || b->max_trials() > 100000) {
        throw InvalidArgument("must be between 1 and 100000", "spec.budget.max_trials");
    }
    if (b->max_parallel_trials() < 1 || b->max_parallel_trials() > 1000) {
        throw InvalidArgument("must be between 1 and 1000", "spec.budget.max_parallel_trials");
    }
    if (b->has_max_wall_time()) {
        const auto& w = b->max_wall_time();
        // Checked before anything converts it: out of protobuf's range, it
        // cannot even be written as JSON.
        if (w.seconds() <= 0 || w.seconds() > 366LL * 24 * 3600 || w.nanos() < 0 ||
            w.nanos() > 999999999) {
            throw InvalidArgument("must be positive and at most 366 days",
                                  "spec.budget.max_wall_time");
        }
    }

    // Optimiser.
    auto* o = s.mutable_optimizer();
    if (o->kind() == v1::OPTIMIZER_KIND_UNSPECIFIED) o->set_kind(v1::OPTIMIZER_MOBO);
    if (!v1::OptimizerKind_IsValid(o->kind())) {
        throw InvalidArgument("unknown optimiser", "spec.optimizer.kind");
    }
    if (o->acquisition() == v1::ACQUISITION_UNSPECIFIED) o->set_acquisition(v1::ACQUISITION_UCB);
    if (!v1::Acquisition_IsValid(o->acquisition())) {
        throw InvalidArgument("unknown acquisition", "spec.optimizer.acquisition");
    }
    if (o->warmup_trials() == 0) o->set_warmup_trials(std::min(10, b->max_trials()));
    if (o->warmup_trials() < 1)
        throw InvalidArgument("must be positive", "spec.optimizer.warmup_trials");
    if (o->ucb_beta() == 0) o->set_ucb_beta(2.0);
    if (!(o->ucb_beta() > 0 && std::isfinite(o->ucb_beta()))) {
        throw InvalidArgument("must be positive and finite", "spec.optimizer.ucb_beta");
    }
    if (o->candidate_pool() == 0) o->set_candidate_pool(2000);
    if (o->candidate_pool() < 10 || o->candidate_pool() > 100000) {
        throw InvalidArgument("must be between 10 and 100000", "spec.optimizer.candidate_pool");
    }
    if (o->population() == 0) o->set_population(16);
    if (o->population() < 2 || o->population() > 10000) {
        throw InvalidArgument("must be between 2 and 10000", "spec.optimizer.population");
    }

    // Measurement.
    auto* m = s.mutable_measurement();
    if (m->warmup_runs() == 0) m->set_warmup_runs(1);
    if (m->timed_runs() == 0) m->set_timed_runs(5);
    if (m->check_inputs() == 0) m->set_check_inputs(3);
    if (m->warmup_runs() < 0 || m->timed_runs() < 1 || m->check_inputs() < 1) {
        throw InvalidArgument("runs and inputs must be positive", "spec.measurement");
    }

    // Reference point: one value per objective when given.
    if (s.reference_point_size() != 0 && s.reference_point_size() != s.objectives_size()) {
        throw InvalidArgument(
            "needs one value per objective (" + std::to_string(s.objectives_size()) + ")",
            "spec.reference_point");
    }
    for (double r : s.reference_point()) {
        if (!(std::isfinite(r) && r > 0)) {
            throw InvalidArgument("must be finite and positive", "spec.reference_point");
        }
    }
    // Fixed now, so the job's hypervolume is measured on one scale throughout.
    if (s.reference_point_size() == 0) {
        for (double r : ReferencePointOf(s)) s.add_reference_point(r);
    }
    return s;
}

}  // namespace hilnas::controller
