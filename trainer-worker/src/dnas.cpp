#include "dnas.h"

#include <algorithm>
#include <cmath>

#include "hilnas/arch/cost.h"
#include "hilnas/common/errors.h"
#include "shrink.h"

namespace hilnas::trainer {

namespace {

using arch::Op;

// Width options of a layer of `c` channels: round(c * k / G), k = 1..G, distinct, >= 1.
std::vector<int> Options(int c, int groups) {
    std::vector<int> out;
    for (int k = 1; k <= groups; ++k) {
        const int w =
            std::max(1, static_cast<int>(std::lround(static_cast<double>(c) * k / groups)));
        if (out.empty() || w > out.back()) out.push_back(w);
    }
    return out;
}

struct Violation {
    double total = 0;  // sum of relative excesses
};

Violation Check(const arch::Model& model, const DnasOptions& o) {
    const arch::CostReport r = arch::ComputeCost(arch::Analyze(model));
    Violation v;
    auto add = [&](int64_t value, int64_t budget) {
        if (budget > 0 && value > budget) {
            v.total += static_cast<double>(value - budget) / static_cast<double>(budget);
        }
    };
    add(r.arena_bytes, o.max_sram_bytes);
    add(r.flash_bytes, o.max_flash_bytes);
    add(r.macs, o.max_macs);
    return v;
}

}  // namespace

bool WithinBudget(const arch::Model& model, const DnasOptions& o) {
    return Check(model, o).total == 0;
}

ExpectedCost ComputeExpectedCost(const arch::Graph& g, const std::vector<torch::Tensor>& expected) {
    const int n = g.num_layers();
    auto constant = [](double v) { return torch::full({}, v, torch::kFloat64); };
    std::vector<torch::Tensor> ch(static_cast<size_t>(n) + 1);  // expected channels per tensor
    ch[0] = constant(g.tensors[0].c);
    std::vector<torch::Tensor> macs, bytes, memory;
    for (int i = 0; i < n; ++i) {
        const arch::Layer& l = g.model.layers[static_cast<size_t>(i)];
        const auto& ins = g.inputs[static_cast<size_t>(i)];
        const arch::Shape& x = g.input_of(i);
        const arch::Shape& y = g.output(i);
        const torch::Tensor& cin = ch[static_cast<size_t>(ins[0])];
        const double hw_in = static_cast<double>(x.h) * x.w,
                     hw_out = static_cast<double>(y.h) * y.w;
        const double bits = l.bits() == 4 ? 0.5 : 1.0;
        torch::Tensor cout;
        const bool searched =
            i < static_cast<int>(expected.size()) && expected[static_cast<size_t>(i)].defined();
        switch (l.op) {
            case Op::kConv2d: {
                cout = searched ? expected[static_cast<size_t>(i)].to(torch::kFloat64)
                                : constant(l.filters);
                const double k = static_cast<double>(l.kernel[0]) * l.kernel[1];
                macs.push_back(hw_out * k * cin * cout);
                bytes.push_back(k * cin * cout * bits + 12.0 * cout);
                break;
            }
            case Op::kDepthwiseConv2d: {
                cout = cin * l.depth_multiplier;
                const double k = static_cast<double>(l.kernel[0]) * l.kernel[1];
                macs.push_back(hw_out * k * cout);
                bytes.push_back(k * cout * bits + 12.0 * cout);
                break;
            }
            case Op::kDense: {
                cout = searched ? expected[static_cast<size_t>(i)].to(torch::kFloat64)
                                : constant(l.units);
                macs.push_back(hw_in * cin * cout);
                bytes.push_back(hw_in * cin * cout * bits + 12.0 * cout);
                break;
            }
            case Op::kFlatten:
                cout = cin * hw_in;
                break;
            default:
                cout = cin;
                break;
        }
        torch::Tensor mem = hw_out * cout;
        for (int t : ins) {
            const arch::Shape& s = g.tensors[static_cast<size_t>(t)];
            mem = mem + static_cast<double>(s.h) * s.w * ch[static_cast<size_t>(t)];
        }
        memory.push_back(mem);
        ch[static_cast<size_t>(i) + 1] = cout;
    }
    ExpectedCost c;
    c.macs = macs.empty() ? constant(0) : torch::stack(macs).sum();
    c.weight_bytes = bytes.empty() ? constant(0) : torch::stack(bytes).sum();
    c.working_memory_bytes = torch::stack(memory).max();
    return c;
}

DnasOptions ResolveBudgets(const DnasOptions& o, const arch::CostReport& start,
                           const arch::CostReport& narrowest) {
    DnasOptions r = o;
    if (!(o.shrink > 0)) return r;
    auto resolve = [&](int64_t cap, int64_t from, int64_t to) {
        const double at =
            static_cast<double>(to) + std::min(o.shrink, 1.0) * static_cast<double>(from - to);
        const int64_t relative = std::max(to, static_cast<int64_t>(std::floor(at)));
        return cap > 0 ? std::min(cap, relative) : relative;
    };
    r.max_sram_bytes = resolve(o.max_sram_bytes, start.arena_bytes, narrowest.arena_bytes);
    r.max_flash_bytes = resolve(o.max_flash_bytes, start.flash_bytes, narrowest.flash_bytes);
    r.max_macs = resolve(o.max_macs, start.macs, narrowest.macs);
    r.shrink = 0;
    return r;
}

DnasResult RunDnas(Network net, const Dataset& data, FitOptions fit, const DnasOptions& given,
                   const ProgressFn& progress, const std::atomic<bool>* cancel) {
    const arch::Graph& g = net->graph();
    const int n = g.num_layers();
    const std::vector<bool> shrinkable = ShrinkableLayers(g);
    std::vector<std::vector<int>> options(static_cast<size_t>(n));
    std::vector<torch::Tensor> logits(static_cast<size_t>(n)), cover(static_cast<size_t>(n)),
        width_values(static_cast<size_t>(n));
    std::vector<torch::Tensor> arch_params;
    for (int i = 0; i < n; ++i) {
        if (!shrinkable[static_cast<size_t>(i)]) continue;
        const int c = static_cast<int>(net->out_channels(i));
        options[static_cast<size_t>(i)] = Options(c, std::max(1, given.channel_groups));
        const auto& opts = options[static_cast<size_t>(i)];
        const auto k = static_cast<int64_t>(opts.size());
        if (k < 2) continue;
        logits[static_cast<size_t>(i)] =
            torch::zeros({k}, torch::TensorOptions().device(fit.device).requires_grad(true));
        arch_params.push_back(logits[static_cast<size_t>(i)]);
        // cover[k][c] = 1 when option k keeps channel c (the first w_k channels).
        torch::Tensor m = torch::zeros({k, c});
        for (int64_t j = 0; j < k; ++j) m[j].narrow(0, 0, opts[static_cast<size_t>(j)]).fill_(1);
        cover[static_cast<size_t>(i)] = m.to(fit.device);
        std::vector<float> w(opts.begin(), opts.end());
        width_values[static_cast<size_t>(i)] = torch::tensor(w).to(fit.device);
    }
    // Infeasible even at the narrowest widths: fail before training anything.
    std::vector<int> narrowest(static_cast<size_t>(n), 0);
    for (int i = 0; i < n; ++i) {
        if (!options[static_cast<size_t>(i)].empty()) {
            narrowest[static_cast<size_t>(i)] = options[static_cast<size_t>(i)].front();
        }
    }
    // The budgets searched under: the shrink resolved now the narrowest widths are known.
    const DnasOptions o =
        ResolveBudgets(given, arch::ComputeCost(g),
                       arch::ComputeCost(arch::Analyze(WithWidths(g.model, narrowest))));
    if (!WithinBudget(WithWidths(g.model, narrowest), o)) {
        throw FailedPrecondition("no width choice of this architecture meets the DNAS budgets",
                                 "dnas");
    }
    const int64_t code_bytes = arch::ComputeCost(g).code_bytes;

    torch::optim::Adam arch_opt(arch_params, torch::optim::AdamOptions(o.arch_learning_rate));
    DnasResult result;
    result.budgets = o;
    auto penalty = [&]() {
        std::vector<torch::Tensor> expected(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            if (!logits[static_cast<size_t>(i)].defined()) continue;
            expected[static_cast<size_t>(i)] = (torch::softmax(logits[static_cast<size_t>(i)], 0) *
                                                width_values[static_cast<size_t>(i)])
                                                   .sum()
                                                   .to(torch::kCPU);
        }
        const ExpectedCost c = ComputeExpectedCost(g, expected);
        torch::Tensor p = torch::zeros({}, torch::kFloat64);
        auto add = [&](const torch::Tensor& value, double budget) {
            if (budget > 0) p = p + torch::relu(value / budget - 1.0);
        };
        add(c.working_memory_bytes, static_cast<double>(o.max_sram_bytes));
        add(c.weight_bytes, o.max_flash_bytes > 0
                                ? std::max(1.0, static_cast<double>(o.max_flash_bytes - code_bytes))
                                : 0.0);
        add(c.macs, static_cast<double>(o.max_macs));
        return (p * o.penalty_weight).to(torch::kFloat32);
    };
    fit.phase = "dnas";
    fit.before_step = [&](int64_t step, int64_t steps) {
        arch_opt.zero_grad();
        const double tau =
            o.temperature * std::pow(0.2, static_cast<double>(step) /
                                              static_cast<double>(std::max<int64_t>(steps, 1)));
        for (int i = 0; i < n; ++i) {
            if (!logits[static_cast<size_t>(i)].defined()) continue;
            const torch::Tensor u =
                torch::rand_like(logits[static_cast<size_t>(i)]).clamp(1e-9, 1.0 - 1e-9);
            const torch::Tensor y = torch::softmax(
                (logits[static_cast<size_t>(i)] - torch::log(-torch::log(u))) / tau, 0);
            net->layer(i).gate = torch::matmul(y, cover[static_cast<size_t>(i)]);
        }
    };
    fit.extra_loss = [&](int64_t, int64_t) {
        const torch::Tensor p = penalty();
        result.expected_penalty = p.item<double>();
        return p;
    };
    fit.after_step = [&]() { arch_opt.step(); };
    if (!arch_params.empty()) Fit(*net, data, fit, progress, cancel);
    for (int i = 0; i < n; ++i) net->layer(i).gate = torch::Tensor();

    // The discrete choice, repaired until the exact figures fit.
    std::vector<int> choice(static_cast<size_t>(n), -1);
    for (int i = 0; i < n; ++i) {
        const auto& opts = options[static_cast<size_t>(i)];
        if (opts.empty()) continue;
        choice[static_cast<size_t>(i)] =
            logits[static_cast<size_t>(i)].defined()
                ? static_cast<int>(logits[static_cast<size_t>(i)].argmax().item<int64_t>())
                : static_cast<int>(opts.size()) - 1;
    }
    auto widths_of = [&](const std::vector<int>& ch) {
        std::vector<int> w(static_cast<size_t>(n), 0);
        for (int i = 0; i < n; ++i) {
            if (ch[static_cast<size_t>(i)] >= 0) {
                w[static_cast<size_t>(i)] =
                    options[static_cast<size_t>(i)]
                           [static_cast<size_t>(ch[static_cast<size_t>(i)])];
            }
        }
        return w;
    };
    while (Check(WithWidths(g.model, widths_of(choice)), o).total > 0) {
        int best = -1;
        double best_total = 0;
        for (int i = 0; i < n; ++i) {
            if (choice[static_cast<size_t>(i)] <= 0) continue;
            std::vector<int> trial = choice;
            --trial[static_cast<size_t>(i)];
            const double t = Check(WithWidths(g.model, widths_of(trial)), o).total;
            if (best < 0 || t < best_total) {
                best = i;
                best_total = t;
            }
        }
        if (best < 0) {
            throw FailedPrecondition("no width choice meets the DNAS budgets", "dnas");
        }
        --choice[static_cast<size_t>(best)];
    }
    result.widths = widths_of(choice);
    std::vector<std::vector<int64_t>> keep(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        const int w = result.widths[static_cast<size_t>(i)];
        if (w <= 0 || w == net->out_channels(i)) continue;
        for (int64_t c = 0; c < w; ++c) keep[static_cast<size_t>(i)].push_back(c);
    }
    result.network = Shrink(*net, keep);
    result.model = result.network->model();
    return result;
}

}  // namespace hilnas::trainer
