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

struct Candidate {
    std::vector<PlannedBuffer> buffers;
    std::vector<Unit> units;
    std::vector<int> unit_of;  // per buffer
};

Candidate Build(const Graph& g, bool in_place_add, const ScratchFn& scratch,
                std::vector<int>& tensor_buffer, std::vector<int>& scratch_buffer) {
    Candidate c;
    const int n = g.num_layers();
    tensor_buffer.assign(static_cast<size_t>(n) + 1, -1);
    scratch_buffer.assign(static_cast<size_t>(n), -1);
    for (int t = 0; t <= n; ++t) {
        PlannedBuffer b;
        b.kind = PlannedBuffer::Kind::kTensor;
        b.index = t;
        b.size = g.tensors[static_cast<size_t>(t)].elements();
        b.first = t == 0 ? 0 : t - 1;
        const auto& readers = g.consumers[static_cast<size_t>(t)];
        b.last = readers.empty() ? n - 1 : *std::max_element(readers.begin(), readers.end());
        tensor_buffer[static_cast<size_t>(t)] = static_cast<int>(c.buffers.size());
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
            c.buffers[static_cast<size_t>(tensor_buffer[static_cast<size_t>(i) + 1])];
        if (l.op == Op::kFlatten) {
            out.shares_with = Root(c.buffers, tensor_buffer[static_cast<size_t>(in[0])]);
        } else if (l.op == Op::kAdd && in_place_add) {
            for (int t : in) {
                const int root = Root(c.buffers, tensor_buffer[static_cast<size_t>(t)]);
                if (unit_last(root) == i) {
                    out.shares_with = root;
                    break;
                }
            }
        }
        const int64_t bytes = scratch ? scratch(g, i) : 0;
        if (bytes > 0) {
            PlannedBuffer s;
            s.kind = PlannedBuffer::Kind::kScratch;
            s.index = i;
            s.size = bytes;
            s.first = s.last = i;
            scratch_buffer[static_cast<size_t>(i)] = static_cast<int>(c.buffers.size());
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

MemoryPlan Finish(const Candidate& c, PlanStrategy strategy, std::string order, int64_t arena,
                  std::vector<int> tensor_buffer, std::vector<int> scratch_buffer) {
    MemoryPlan plan;
    plan.strategy = strategy;
    plan.order = std::move(order);
    plan.arena_bytes = arena;
    plan.buffers = c.buffers;
    for (size_t b = 0; b < plan.buffers.size(); ++b) {
        plan.buffers[b].offset = c.units[static_cast<size_t>(c.unit_of[b])].offset;
    }
    plan.tensor_buffer = std::move(tensor_buffer);
    plan.scratch_buffer = std::move(scratch_buffer);
    return plan;
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

MemoryPlan PlanMemory(const Graph& graph, PlanStrategy strategy, const ScratchFn& scratch) {
    std::vector<int> tensor_buffer, scratch_buffer;
    if (strategy == PlanStrategy::kNaive) {
        Candidate c = Build(graph, false, scratch, tensor_buffer, scratch_buffer);
        int64_t offset = 0;
        for (Unit& u : c.units) {
            u.offset = offset;
            offset += u.size;
        }
        return Finish(c, strategy, "sum", offset, tensor_buffer, scratch_buffer);
    }
    if (strategy == PlanStrategy::kGreedyBySize) {
        Candidate c = Build(graph, false, scratch, tensor_buffer, scratch_buffer);
        const auto orders = Orders(c.units);
        const int64_t arena = Place(c.units, orders[0].second);
        return Finish(c, strategy, orders[0].first, arena, tensor_buffer, scratch_buffer);
    }
    MemoryPlan best;
    best.arena_bytes = -1;
    for (const bool in_place : {true, false}) {
        Candidate c = Build(graph, in_place, scratch, tensor_buffer, scratch_buffer);
        for (const auto& [name, order] : Orders(c.units)) {
            const int64_t arena = Place(c.units, order);
            if (best.arena_bytes < 0 || arena < best.arena_bytes) {
                best = Finish(c, strategy, name + (in_place ? "+in-place" : ""), arena,
                              tensor_buffer, scratch_buffer);
            }
        }
    }
    return best;
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
    int steps = 0;
    for (const Unit& u : units) steps = std::max(steps, u.last + 1);
    int64_t bound = 0;
    for (int step = 0; step < steps; ++step) {
        int64_t live = 0;
        for (const Unit& u : units) {
            if (u.first <= step && step <= u.last) live += u.size;
        }
        bound = std::max(bound, live);
    }
    return bound;
}

}  // namespace hilnas::arch
