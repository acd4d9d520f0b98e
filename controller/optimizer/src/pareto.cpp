#include "hilnas/optimizer/pareto.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <numeric>

#include "hilnas/common/errors.h"

namespace hilnas::optimizer {

bool Dominates(const Vector& a, const Vector& b) {
    bool better = false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] > b[i]) return false;
        if (a[i] < b[i]) better = true;
    }
    return better;
}

namespace {

std::vector<int> LexOrder(const std::vector<Vector>& points) {
    std::vector<int> order(points.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const Vector& pa = points[static_cast<size_t>(a)];
        const Vector& pb = points[static_cast<size_t>(b)];
        if (pa != pb) return pa < pb;
        return a < b;
    });
    return order;
}

// Processes the points in lexicographic order, a group of identical points at a
// time. Any dominator of p is lexicographically smaller than p, and a dominated
// dominator is itself dominated by a non-dominated point that also dominates p,
// so p only needs checking against the non-dominated points seen before it.
template <typename Front>
std::vector<int> SweepNonDominated(const std::vector<Vector>& points, Front& front) {
    const std::vector<int> order = LexOrder(points);
    std::vector<int> result;
    size_t g = 0;
    while (g < order.size()) {
        size_t end = g + 1;
        const Vector& p = points[static_cast<size_t>(order[g])];
        while (end < order.size() && points[static_cast<size_t>(order[end])] == p) ++end;
        if (!front.Dominated(p)) {
            front.Insert(p);
            for (size_t k = g; k < end; ++k) result.push_back(order[k]);
        }
        g = end;
    }
    std::sort(result.begin(), result.end());
    return result;
}

// m = 2: the best second objective so far (all earlier points have a smaller
// or equal first objective; an equal first objective with a smaller second one
// dominates, and so does a smaller first objective with a smaller or equal one).
struct Front2 {
    double best = INFINITY;
    bool Dominated(const Vector& p) const { return best <= p[1]; }
    void Insert(const Vector& p) { best = std::min(best, p[1]); }
};

// m = 3: a staircase of the (f2, f3) projections of the non-dominated points
// seen so far; f3 strictly decreases as f2 increases.
struct Front3 {
    std::map<double, double> stairs;
    bool Dominated(const Vector& p) const {
        auto it = stairs.upper_bound(p[1]);
        if (it == stairs.begin()) return false;
        --it;
        return it->second <= p[2];
    }
    void Insert(const Vector& p) {
        auto it = stairs.lower_bound(p[1]);
        while (it != stairs.end() && it->second >= p[2]) it = stairs.erase(it);
        stairs[p[1]] = p[2];
    }
};

struct FrontN {
    std::vector<Vector> members;
    bool Dominated(const Vector& p) const {
        for (const Vector& q : members) {
            if (Dominates(q, p)) return true;
        }
        return false;
    }
    void Insert(const Vector& p) { members.push_back(p); }
};

}  // namespace

std::vector<int> NonDominatedIndices(const std::vector<Vector>& points) {
    if (points.empty()) return {};
    const size_t m = points[0].size();
    if (m == 1) {
        double best = INFINITY;
        for (const Vector& p : points) best = std::min(best, p[0]);
        std::vector<int> result;
        for (size_t i = 0; i < points.size(); ++i) {
            if (points[i][0] == best) result.push_back(static_cast<int>(i));
        }
        return result;
    }
    if (m == 2) {
        Front2 front;
        return SweepNonDominated(points, front);
    }
    if (m == 3) {
        Front3 front;
        return SweepNonDominated(points, front);
    }
    FrontN front;
    return SweepNonDominated(points, front);
}

std::vector<int> NonDominatedRanks(const std::vector<Vector>& points) {
    std::vector<int> rank(points.size(), -1);
    std::vector<int> remaining(points.size());
    std::iota(remaining.begin(), remaining.end(), 0);
    int level = 0;
    while (!remaining.empty()) {
        std::vector<Vector> subset;
        subset.reserve(remaining.size());
        for (int i : remaining) subset.push_back(points[static_cast<size_t>(i)]);
        const std::vector<int> front = NonDominatedIndices(subset);
        std::vector<char> in_front(remaining.size(), 0);
        for (int k : front) {
            in_front[static_cast<size_t>(k)] = 1;
            rank[static_cast<size_t>(remaining[static_cast<size_t>(k)])] = level;
        }
        std::vector<int> next;
        for (size_t k = 0; k < remaining.size(); ++k) {
            if (!in_front[k]) next.push_back(remaining[k]);
        }
        remaining.swap(next);
        ++level;
    }
    return rank;
}

namespace {

double Hypervolume2(std::vector<Vector> pts, double r0, double r1) {
    std::sort(pts.begin(), pts.end());
    double best = r1;
    double hv = 0.0;
    for (const Vector& p : pts) {
        if (p[1] < best) {
            hv += (r0 - p[0]) * (best - p[1]);
            best = p[1];
        }
    }
    return hv;
}

// HV3D (Beume et al. 2009): sweep on the third objective, keeping the 2D
// staircase of the first two and its area, updated per insertion.
double Hypervolume3(std::vector<Vector> pts, const Vector& r) {
    std::sort(pts.begin(), pts.end(), [](const Vector& a, const Vector& b) {
        if (a[2] != b[2]) return a[2] < b[2];
        return a < b;
    });
    std::map<double, double> stairs;  // f0 -> f1, f1 strictly decreasing
    double area = 0.0;
    double hv = 0.0;
    double z = pts.empty() ? r[2] : pts[0][2];
    for (const Vector& p : pts) {
        hv += area * (p[2] - z);
        z = p[2];
        auto it = stairs.lower_bound(p[0]);
        double h = r[1];
        if (it != stairs.begin()) h = std::prev(it)->second;
        if (h <= p[1]) continue;
        if (it != stairs.end() && it->first == p[0] && it->second <= p[1]) continue;
        double x = p[0];
        double gain = 0.0;
        while (it != stairs.end()) {
            gain += (it->first - x) * (h - p[1]);
            x = it->first;
            h = it->second;
            if (h < p[1]) break;
            it = stairs.erase(it);
        }
        if (it == stairs.end()) gain += (r[0] - x) * (h - p[1]);
        stairs[p[0]] = p[1];
        area += gain;
    }
    hv += area * (r[2] - z);
    return hv;
}

double HypervolumeRec(std::vector<Vector> pts, const Vector& r) {
    const size_t m = r.size();
    if (pts.empty()) return 0.0;
    if (m == 1) {
        double best = r[0];
        for (const Vector& p : pts) best = std::min(best, p[0]);
        return r[0] - best;
    }
    if (m == 2) return Hypervolume2(std::move(pts), r[0], r[1]);
    if (m == 3) return Hypervolume3(std::move(pts), r);
    // Slice along the last objective: between consecutive values the dominated
    // region is the (m-1)-dimensional hypervolume of the points below the slice.
    std::sort(pts.begin(), pts.end(),
              [m](const Vector& a, const Vector& b) { return a[m - 1] < b[m - 1]; });
    const Vector sub_r(r.begin(), r.end() - 1);
    std::vector<Vector> below;
    double hv = 0.0;
    for (size_t i = 0; i < pts.size(); ++i) {
        below.emplace_back(pts[i].begin(), pts[i].end() - 1);
        const double next = i + 1 < pts.size() ? pts[i + 1][m - 1] : r[m - 1];
        if (next == pts[i][m - 1]) continue;
        // Keep the slice small: only its non-dominated points matter.
        const std::vector<int> nd = NonDominatedIndices(below);
        std::vector<Vector> front;
        front.reserve(nd.size());
        for (int k : nd) front.push_back(below[static_cast<size_t>(k)]);
        below = front;
        hv += HypervolumeRec(front, sub_r) * (next - pts[i][m - 1]);
    }
    return hv;
}

}  // namespace

double Hypervolume(const std::vector<Vector>& points, const Vector& reference) {
    std::vector<Vector> inside;
    for (const Vector& p : points) {
        if (p.size() != reference.size()) {
            throw InvalidArgument("hypervolume: point and reference differ in size");
        }
        bool ok = true;
        for (size_t i = 0; i < p.size(); ++i) ok = ok && p[i] < reference[i];
        if (ok) inside.push_back(p);
    }
    if (inside.empty()) return 0.0;
    const std::vector<int> nd = NonDominatedIndices(inside);
    std::vector<Vector> front;
    front.reserve(nd.size());
    for (int k : nd) front.push_back(inside[static_cast<size_t>(k)]);
    // Duplicates add nothing; dropping them keeps the slicing cheap.
    std::sort(front.begin(), front.end());
    front.erase(std::unique(front.begin(), front.end()), front.end());
    return HypervolumeRec(std::move(front), reference);
}

double HypervolumeImprovement(const Vector& point, const std::vector<Vector>& front,
                              const Vector& reference) {
    if (point.size() != reference.size()) {
        throw InvalidArgument("hypervolume improvement: point and reference differ in size");
    }
    double box = 1.0;
    for (size_t i = 0; i < point.size(); ++i) {
        if (!(point[i] < reference[i])) return 0.0;
        box *= reference[i] - point[i];
    }
    // The front's part of the box [point, reference]: each member moved up to
    // the point's corner.
    std::vector<Vector> clipped;
    clipped.reserve(front.size());
    for (const Vector& q : front) {
        Vector c(q.size());
        for (size_t i = 0; i < q.size(); ++i) c[i] = std::max(q[i], point[i]);
        clipped.push_back(std::move(c));
    }
    return std::max(0.0, box - Hypervolume(clipped, reference));
}

ObjectiveBounds BoundsOf(const std::vector<Vector>& points) {
    ObjectiveBounds b;
    if (points.empty()) return b;
    b.ideal = points[0];
    b.nadir = points[0];
    for (const Vector& p : points) {
        for (size_t i = 0; i < p.size(); ++i) {
            b.ideal[i] = std::min(b.ideal[i], p[i]);
            b.nadir[i] = std::max(b.nadir[i], p[i]);
        }
    }
    return b;
}

Vector Normalize(const Vector& y, const ObjectiveBounds& bounds) {
    Vector out(y.size());
    for (size_t i = 0; i < y.size(); ++i) {
        const double range = bounds.nadir[i] - bounds.ideal[i];
        out[i] = (y[i] - bounds.ideal[i]) / (range > 0.0 ? range : 1.0);
    }
    return out;
}

std::vector<Vector> Normalize(const std::vector<Vector>& ys, const ObjectiveBounds& bounds) {
    std::vector<Vector> out;
    out.reserve(ys.size());
    for (const Vector& y : ys) out.push_back(Normalize(y, bounds));
    return out;
}

Vector ReferencePoint(const std::vector<Vector>& points, const std::optional<Vector>& spec) {
    if (spec) return *spec;
    if (points.empty()) throw InvalidArgument("reference point: no points and no spec");
    std::vector<Vector> front;
    for (int k : NonDominatedIndices(points)) front.push_back(points[static_cast<size_t>(k)]);
    const ObjectiveBounds b = BoundsOf(front);
    Vector r(b.nadir.size());
    for (size_t i = 0; i < r.size(); ++i) {
        const double range = b.nadir[i] - b.ideal[i];
        r[i] = b.nadir[i] + 0.1 * (range > 0.0 ? range : std::max(std::abs(b.nadir[i]), 1.0));
    }
    return r;
}

}  // namespace hilnas::optimizer
