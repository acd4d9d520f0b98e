#include "hilnas/arch/planner.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace hilnas::arch {

namespace {

int64_t Align(int64_t bytes) {
    return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// Buffers that share bytes form one unit, placed as one.
struct Unit {
    int root = 0;  // buffer index
    int64_t size = 0;
    int first = 0;
    int last = 0;
    int64_t offset = 0;
};

bool Meet(const Unit& a, const Unit& b) { return a.first <= b.last && b.first <= a.last; }

int Root(const std::vector<PlannedBuffer>& buffers, int b) {
    while (buffers[static_cast<size_t>(b)].shares_with >= 0) {
        b = buffers[static_cast<size_t>(b)].shares_with;
    }
    return b;
}

// Places units in `order`, each at the lowest offset where it meets no placed
// unit it is live with (TFLM's greedy first fit). Returns the arena size.
int64_t Place(std::vector<Unit>& units, const std::vector<int>& order) {
    std::vector<int> placed;
    placed.reserve(units.size());
    int64_t arena = 0;
    std::vector<const Unit*> live;
    for (int u : order) {
        Unit& unit = units[static_cast<size_t>(u)];
        live.clear();
        for (int p : placed) {
            if (Meet(unit, units[static_cast<size_t>(p)]))
                live.push_back(&units[static_cast<size_t>(p)]);
        }
        std::sort(live.begin(), live.end(),
                  [](const Unit* a, const Unit* b) { return a->offset < b->offset; });
        int64_t offset = 0;
        for (const Unit* p : live) {
            if (offset + unit.size <= p->offset) break;
            offset = std::max(offset, p->offset + p->size);
        }
        unit.offset = offset;
        arena = std::max(arena, offset + unit.size);
        placed.push_back(u);
    }
    return arena;
}

// The largest sum of unit sizes live at one step.
int64_t PeakLiveBytes(const std::vector<Unit>& units) {
    int steps = 0;
    for (const Unit& u : units) steps = std::max(steps, u.last + 1);
    std::vector<int64_t> live(static_cast<size_t>(steps), 0);
    for (const Unit& u : units) {
        for (int step = u.first; step <= u.last; ++step) live[static_cast<size_t>(step)] += u.size;
    }
    return live.empty() ? 0 : *std::max_element(live.begin(), live.end());
}

struct Candidate {
    std::vector<PlannedBuffer> buffers;
    std::vector<Unit> units;
    std::vector<int> unit_of;  // per buffer
    std::vector<int> tensor_buffer;
    std::vector<int> scratch_buffer;
    std::vector<Kernel> kernels;
};

// What a candidate may do in place: adds (all or none), and the layers marked
// in `layers` that have an InPlaceKernel.
struct InPlace {
    bool add = false;
    std::vector<bool> layers;
};

Candidate Build(const Graph& g, const InPlace& in_place, const ScratchFn& scratch) {
    Candidate c;
    const int n = g.num_layers();
    c.tensor_buffer.assign(static_cast<size_t>(n) + 1, -1);
    c.scratch_buffer.assign(static_cast<size_t>(n), -1);
    c.kernels.resize(static_cast<size_t>(n));
    for (int t = 0; t <= n; ++t) {
        PlannedBuffer b;
        b.kind = PlannedBuffer::Kind::kTensor;
        b.index = t;
        b.size = g.tensors[static_cast<size_t>(t)].elements();
        b.first = t == 0 ? 0 : t - 1;
        const auto& readers = g.consumers[static_cast<size_t>(t)];
        b.last = readers.empty() ? n - 1 : *std::max_element(readers.begin(), readers.end());
        c.tensor_buffer[static_cast<size_t>(t)] = static_cast<int>(c.buffers.size());
        c.buffers.push_back(b);
    }
    auto unit_last = [&](int root) {
        int last = 0;
        for (size_t b = 0; b < c.buffers.size(); ++b) {
            if (Root(c.buffers, static_cast<int>(b)) == root)
                last = std::max(last, c.buffers[b].last);
        }
        return last;
    };
    for (int i = 0; i < n; ++i) {
        const Layer& l = g.model.layers[static_cast<size_t>(i)];
        const auto& in = g.inputs[static_cast<size_t>(i)];
        PlannedBuffer& out =
            c.buffers[static_cast<size_t>(c.tensor_buffer[static_cast<size_t>(i) + 1])];
        Kernel& kernel = c.kernels[static_cast<size_t>(i)];
        kernel = KernelOf(g, i);
        if (l.op == Op::kFlatten) {
            out.shares_with = Root(c.buffers, c.tensor_buffer[static_cast<size_t>(in[0])]);
        } else if (l.op == Op::kAdd && in_place.add) {
            for (int t : in) {
                const int root = Root(c.buffers, c.tensor_buffer[static_cast<size_t>(t)]);
                if (unit_last(root) == i) {
                    out.shares_with = root;
                    break;
                }
            }
        } else if (!in_place.layers.empty() && in_place.layers[static_cast<size_t>(i)]) {
            const int root = Root(c.buffers, c.tensor_buffer[static_cast<size_t>(in[0])]);
            if (const auto k = InPlaceKernel(g, i); k && unit_last(root) == i) {
                out.shares_with = root;
                kernel = *k;
            }
        }
        const int64_t bytes = scratch ? scratch(g, i, kernel) : 0;
        if (bytes > 0) {
            PlannedBuffer s;
            s.kind = PlannedBuffer::Kind::kScratch;
            s.index = i;
            s.size = bytes;
            s.first = s.last = i;
            c.scratch_buffer[static_cast<size_t>(i)] = static_cast<int>(c.buffers.size());
            c.buffers.push_back(s);
        }
    }
    c.unit_of.assign(c.buffers.size(), -1);
    for (size_t b = 0; b < c.buffers.size(); ++b) {
        const int root = Root(c.buffers, static_cast<int>(b));
        if (c.unit_of[static_cast<size_t>(root)] < 0) {
            c.unit_of[static_cast<size_t>(root)] = static_cast<int>(c.units.size());
            c.units.push_back(Unit{root, 0, c.buffers[b].first, c.buffers[b].last, 0});
        }
        Unit& u = c.units[static_cast<size_t>(c.unit_of[static_cast<size_t>(root)])];
        c.unit_of[b] = c.unit_of[static_cast<size_t>(root)];
        u.size = std::max(u.size, Align(c.buffers[b].size));
        u.first = std::min(u.first, c.buffers[b].first);
        u.last = std::max(u.last, c.buffers[b].last);
    }
    return c;
}

// Named placement orders tried by kBest.
std::vector<std::pair<std::string, std::vector<int>>> Orders(const std::vector<Unit>& units) {
    std::vector<int> base(units.size());
    std::iota(base.begin(), base.end(), 0);
    auto sorted = [&](auto less) {
        std::vector<int> o = base;
        std::stable_sort(o.begin(), o.end(), [&](int a, int b) {
            return less(units[static_cast<size_t>(a)], units[static_cast<size_t>(b)]);
        });
        return o;
    };
    auto span = [](const Unit& u) { return int64_t{u.last - u.first + 1}; };
    std::vector<std::pair<std::string, std::vector<int>>> orders = {
        {"size", sorted([](const Unit& a, const Unit& b) { return a.size > b.size; })},
        {"first-use", sorted([](const Unit& a, const Unit& b) {
             return a.first != b.first ? a.first < b.first : a.size > b.size;
         })},
        {"lifetime", sorted([&](const Unit& a, const Unit& b) {
             return span(a) != span(b) ? span(a) > span(b) : a.size > b.size;
         })},
        {"size-x-lifetime",
         sorted([&](const Unit& a, const Unit& b) { return a.size * span(a) > b.size * span(b); })},
        {"last-use", sorted([](const Unit& a, const Unit& b) {
             return a.last != b.last ? a.last > b.last : a.size > b.size;
         })},
    };
    std::mt19937 rng(0x5eed);  // fixed: plans are a pure function of the model
    for (int k = 0; k < 16; ++k) {
        std::vector<int> o = orders[0].second;
        std::shuffle(o.begin(), o.end(), rng);
        orders.emplace_back("shuffle-" + std::to_string(k), std::move(o));
    }
    return orders;
}

MemoryPlan Finish(Candidate c, PlanStrategy strategy, std::string order, int64_t arena) {
    MemoryPlan plan;
    plan.strategy = strategy;
    plan.order = std::move(order);
    plan.arena_bytes = arena;
    plan.buffers = std::move(c.buffers);
    for (size_t b = 0; b < plan.buffers.size(); ++b) {
        plan.buffers[b].offset = c.units[static_cast<size_t>(c.unit_of[b])].offset;
    }
    plan.tensor_buffer = std::move(c.tensor_buffer);
    plan.scratch_buffer = std::move(c.scratch_buffer);
    plan.kernels = std::move(c.kernels);
    return plan;
}

// The smallest arena over every placement order of one candidate.
struct Placed {
    int64_t arena = -1;
    std::string order;
    Candidate candidate;
};

Placed PlaceBest(Candidate c) {
    Placed best;
    for (const auto& [name, order] : Orders(c.units)) {
        const int64_t arena = Place(c.units, order);
        if (best.arena < 0 || arena < best.arena) {
            best.arena = arena;
            best.order = name;
            best.candidate = c;
        }
    }
    return best;
}

}  // namespace

std::string_view StrategyName(PlanStrategy strategy) {
    switch (strategy) {
        case PlanStrategy::kNaive:
            return "naive";
        case PlanStrategy::kGreedyBySize:
            return "greedy-by-size";
        case PlanStrategy::kBest:
            return "best";
    }
    return "?";
}

MemoryPlan PlanMemory(const Graph& graph, PlanStrategy strategy, const ScratchFn& scratch,
                      bool in_place_layers) {
    if (strategy == PlanStrategy::kNaive) {
        Candidate c = Build(graph, InPlace{}, scratch);
        int64_t offset = 0;
        for (Unit& u : c.units) {
            u.offset = offset;
            offset += u.size;
        }
        return Finish(std::move(c), strategy, "sum", offset);
    }
    if (strategy == PlanStrategy::kGreedyBySize) {
        Candidate c = Build(graph, InPlace{}, scratch);
        const auto orders = Orders(c.units);
        const int64_t arena = Place(c.units, orders[0].second);
        return Finish(std::move(c), strategy, orders[0].first, arena);
    }
    // In-place adds on or off (when the model has one), each with every
    // placement order; a later one wins only when it is smaller.
    const auto layers = static_cast<size_t>(graph.num_layers());
    bool any_add = false;
    std::vector<size_t> eligible;  // layers with an in-place kernel
    for (int i = 0; i < graph.num_layers(); ++i) {
        any_add = any_add || graph.model.layers[static_cast<size_t>(i)].op == Op::kAdd;
        if (in_place_layers && InPlaceKernel(graph, i)) eligible.push_back(static_cast<size_t>(i));
    }
    Placed best;
    InPlace best_in_place;
    for (const bool add : {true, false}) {
        if (!add && !any_add) continue;
        InPlace in_place{add, {}};
        Placed p = PlaceBest(Build(graph, in_place, scratch));
        if (best.arena < 0 || p.arena < best.arena) {
            best = std::move(p);
            best_in_place = std::move(in_place);
        }
    }
    // Then in-place layers, chosen by the peak of live bytes (cheap to know,
    // and what the placement reaches in practice), from two starting points:
    // every eligible layer in place, each in turn back to its ordinary kernel
    // when that leaves the peak as it was; and none in place, each in turn in
    // place when that lowers the peak. (All at once is not always best:
    // chained in place, a small tensor read late can pin a large buffer.)
    // A result is kept when its placement is smaller than the best so far.
    if (!eligible.empty()) {
        auto peak = [&](const InPlace& in_place) {
            return PeakLiveBytes(Build(graph, in_place, scratch).units);
        };
        InPlace all{best_in_place.add, std::vector<bool>(layers, true)};
        int64_t all_peak = peak(all);
        InPlace grown{best_in_place.add, std::vector<bool>(layers, false)};
        int64_t grown_peak = peak(grown);
        for (const size_t i : eligible) {
            InPlace off = all;
            off.layers[i] = false;
            if (const int64_t p = peak(off); p <= all_peak) {
                all = std::move(off);
                all_peak = p;
            }
            InPlace on = grown;
            on.layers[i] = true;
            if (const int64_t p = peak(on); p < grown_peak) {
                grown = std::move(on);
                grown_peak = p;
            }
        }
        for (InPlace* in_place : {&all, &grown}) {
            if (std::find(in_place->layers.begin(), in_place->layers.end(), true) ==
                in_place->layers.end()) {
                continue;
            }
            Placed p = PlaceBest(Build(graph, *in_place, scratch));
            if (p.arena < best.arena) {
                best = std::move(p);
                best_in_place = *in_place;
            }
        }
    }
    std::string order = best.order;
    if (best_in_place.add) order += "+in-place";
    int in_place_count = 0;
    for (size_t i = 0; i < layers; ++i) {
        in_place_count += best.candidate.kernels[i] != KernelOf(graph, static_cast<int>(i));
    }
    if (in_place_count > 0) order += "+layers-in-place-" + std::to_string(in_place_count);
    return Finish(std::move(best.candidate), strategy, order, best.arena);
}

int64_t LiveBytesLowerBound(const MemoryPlan& plan) {
    // Buffers sharing bytes count once: as one unit spanning their lifetimes.
    std::vector<Unit> units;
    std::vector<int> unit_of_root(plan.buffers.size(), -1);
    for (size_t b = 0; b < plan.buffers.size(); ++b) {
        const int root = Root(plan.buffers, static_cast<int>(b));
        int& u = unit_of_root[static_cast<size_t>(root)];
        const PlannedBuffer& buf = plan.buffers[b];
        if (u < 0) {
            u = static_cast<int>(units.size());
            units.push_back(Unit{root, Align(buf.size), buf.first, buf.last, 0});
        } else {
            Unit& unit = units[static_cast<size_t>(u)];
            unit.size = std::max(unit.size, Align(buf.size));
            unit.first = std::min(unit.first, buf.first);
            unit.last = std::max(unit.last, buf.last);
        }
    }
    return PeakLiveBytes(units);
}

}  // namespace hilnas::arch
