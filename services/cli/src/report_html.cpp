#include "report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "hilnas/catalog/metrics.h"
#include "session.h"

namespace hilnas::cli {

namespace {

// --- Text ---------------------------------------------------------------

std::string Escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string Fixed(double v, int digits) {
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", digits, v);
    return text;
}

std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string ShortId(const std::string& id) { return id.substr(0, 8); }

// --- Data ---------------------------------------------------------------

std::optional<v1::ObjectiveValue> ValueOf(const v1::Trial& t, int objective) {
    for (const auto& v : t.objectives()) {
        if (v.objective() == objective) return v;
    }
    return std::nullopt;
}

std::optional<double> MetricOf(const v1::Trial& t, const char* name) {
    for (const auto& m : t.metrics()) {
        if (m.name() == name) return m.value();
    }
    return std::nullopt;
}

// --- SVG ----------------------------------------------------------------

struct Point {
    double x = 0, y = 0;
    std::string css;  // classes besides "pt"
    std::string tip;  // the point's tooltip
};

// A linear map from a data interval onto pixels, with "nice" ticks.
struct Axis {
    double lo = 0, hi = 1;  // data
    double p0 = 0, p1 = 1;  // pixels (p1 < p0 for a y axis)
    std::vector<double> ticks;

    double operator()(double v) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
};

double NiceStep(double range, int count) {
    const double raw = range / std::max(count, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double f : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (raw <= f * magnitude) return f * magnitude;
    }
    return 10 * magnitude;
}

Axis MakeAxis(std::vector<double> values, double p0, double p1, int ticks = 5) {
    Axis a;
    a.p0 = p0;
    a.p1 = p1;
    std::erase_if(values, [](double v) { return !std::isfinite(v); });
    double lo = values.empty() ? 0 : *std::min_element(values.begin(), values.end());
    double hi = values.empty() ? 1 : *std::max_element(values.begin(), values.end());
    if (hi - lo <= std::fabs(hi) * 1e-12) {  // one value: a band around it
        const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    const double step = NiceStep(hi - lo, ticks);
    a.lo = std::floor(lo / step) * step;
    a.hi = std::ceil(hi / step) * step;
    for (double t = a.lo; t <= a.hi + step * 1e-9; t += step) {
        a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
    }
    return a;
}

// One panel: frame, grid, ticks, points and lines, inside (x0, y0, w, h).
struct Panel {
    double x0 = 0, y0 = 0, w = 0, h = 0;
    Axis x, y;
    bool x_ticks = true, y_ticks = true;
    bool inner_labels_only = false;  // in a matrix: no label at the far ends, where cells meet
};

void DrawFrame(std::ostringstream& svg, const Panel& p) {
    svg << "<rect class=\"frame\" x=\"" << Fixed(p.x0, 1) << "\" y=\"" << Fixed(p.y0, 1)
        << "\" width=\"" << Fixed(p.w, 1) << "\" height=\"" << Fixed(p.h, 1) << "\"/>\n";
    for (size_t i = 0; i < p.x.ticks.size(); ++i) {
        const double t = p.x.ticks[i];
        const bool last = i + 1 == p.x.ticks.size();
        const double px = p.x(t);
        svg << "<line class=\"grid\" x1=\"" << Fixed(px, 1) << "\" y1=\"" << Fixed(p.y0, 1)
            << "\" x2=\"" << Fixed(px, 1) << "\" y2=\"" << Fixed(p.y0 + p.h, 1) << "\"/>";
        if (p.x_ticks && !(p.inner_labels_only && last)) {
            svg << "<text class=\"tick\" text-anchor=\"middle\" x=\"" << Fixed(px, 1) << "\" y=\""
                << Fixed(p.y0 + p.h + 14, 1) << "\">" << ShortNumber(t) << "</text>";
        }
        svg << "\n";
    }
    for (size_t i = 0; i < p.y.ticks.size(); ++i) {
        const double t = p.y.ticks[i];
        const bool last = i + 1 == p.y.ticks.size();
        const double py = p.y(t);
        svg << "<line class=\"grid\" x1=\"" << Fixed(p.x0, 1) << "\" y1=\"" << Fixed(py, 1)
            << "\" x2=\"" << Fixed(p.x0 + p.w, 1) << "\" y2=\"" << Fixed(py, 1) << "\"/>";
        if (p.y_ticks && !(p.inner_labels_only && last)) {
            svg << "<text class=\"tick\" text-anchor=\"end\" x=\"" << Fixed(p.x0 - 5, 1)
                << "\" y=\"" << Fixed(py + 4, 1) << "\">" << ShortNumber(t) << "</text>";
        }
        svg << "\n";
    }
}

void DrawPoints(std::ostringstream& svg, const Panel& p, const std::vector<Point>& points,
                double radius = 4) {
    for (const Point& pt : points) {
        svg << "<circle class=\"pt " << pt.css << "\" cx=\"" << Fixed(p.x(pt.x), 1) << "\" cy=\""
            << Fixed(p.y(pt.y), 1) << "\" r=\"" << Fixed(radius, 1) << "\"><title>"
            << Escape(pt.tip) << "</title></circle>\n";
    }
}

void DrawLine(std::ostringstream& svg, const Panel& p, const std::vector<Point>& points,
              const std::string& css, bool steps) {
    if (points.empty()) return;
    svg << "<polyline class=\"" << css << "\" points=\"";
    for (size_t i = 0; i < points.size(); ++i) {
        if (steps && i > 0) {
            svg << Fixed(p.x(points[i].x), 1) << "," << Fixed(p.y(points[i - 1].y), 1) << " ";
        }
        svg << Fixed(p.x(points[i].x), 1) << "," << Fixed(p.y(points[i].y), 1) << " ";
    }
    svg << "\"/>\n";
}

std::string OpenSvg(const std::string& id, const std::string& title, double width, double height) {
    std::ostringstream svg;
    svg << "<svg class=\"plot\" id=\"" << id << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\""
        << Fixed(width, 0) << "\" height=\"" << Fixed(height, 0) << "\" viewBox=\"0 0 "
        << Fixed(width, 0) << " " << Fixed(height, 0) << "\" role=\"img\" aria-label=\""
        << Escape(title) << "\">\n<title>" << Escape(title) << "</title>\n";
    return svg.str();
}

void EmptyNote(std::ostringstream& svg, const Panel& p, const std::string& text) {
    svg << "<text class=\"empty\" text-anchor=\"middle\" x=\"" << Fixed(p.x0 + p.w / 2, 1)
        << "\" y=\"" << Fixed(p.y0 + p.h / 2, 1) << "\">" << Escape(text) << "</text>\n";
}

struct XY {
    std::string id, title, x_label, y_label, empty;
    std::vector<Point> points;
    std::vector<Point> line;  // drawn under the points
    bool steps = false;
    bool diagonal = false;  // y = x, for prediction against measurement
};

// One scatter (or line) plot with axes and labels.
std::string XYPlot(const XY& plot) {
    const double width = 460, height = 320;
    Panel p;
    p.x0 = 64;
    p.y0 = 14;
    p.w = width - p.x0 - 16;
    p.h = height - p.y0 - 48;
    std::vector<double> xs, ys;
    for (const auto* set : {&plot.points, &plot.line}) {
        for (const Point& pt : *set) xs.push_back(pt.x), ys.push_back(pt.y);
    }
    if (plot.diagonal) {  // one scale on both axes, so y = x is the diagonal
        std::vector<double> both = xs;
        both.insert(both.end(), ys.begin(), ys.end());
        xs = ys = both;
    }
    p.x = MakeAxis(xs, p.x0, p.x0 + p.w);
    p.y = MakeAxis(ys, p.y0 + p.h, p.y0);
    std::ostringstream svg;
    svg << OpenSvg(plot.id, plot.title, width, height);
    DrawFrame(svg, p);
    if (plot.diagonal) {
        const double lo = std::max(p.x.lo, p.y.lo), hi = std::min(p.x.hi, p.y.hi);
        svg << "<line class=\"diagonal\" x1=\"" << Fixed(p.x(lo), 1) << "\" y1=\""
            << Fixed(p.y(lo), 1) << "\" x2=\"" << Fixed(p.x(hi), 1) << "\" y2=\""
            << Fixed(p.y(hi), 1) << "\"><title>measured = predicted</title></line>\n";
    }
    DrawLine(svg, p, plot.line, "series", plot.steps);
    DrawPoints(svg, p, plot.points);
    if (plot.points.empty() && plot.line.empty()) EmptyNote(svg, p, plot.empty);
    svg << "<text class=\"label\" text-anchor=\"middle\" x=\"" << Fixed(p.x0 + p.w / 2, 1)
        << "\" y=\"" << Fixed(height - 8, 1) << "\">" << Escape(plot.x_label) << "</text>\n"
        << "<text class=\"label\" text-anchor=\"middle\" transform=\"translate(14,"
        << Fixed(p.y0 + p.h / 2, 1) << ") rotate(-90)\">" << Escape(plot.y_label) << "</text>\n"
        << "</svg>\n";
    return "<figure>" + svg.str() + "<figcaption>" + Escape(plot.title) +
           "</figcaption></figure>\n";
}

// --- The page's parts -----------------------------------------------------

struct Objectives {
    std::vector<int> ids;
    std::vector<std::string> names;  // FLASH_BYTES
};

Objectives JobObjectives(const ReportData& d) {
    Objectives o;
    for (int id : d.front.objectives()) {
        o.ids.push_back(id);
        o.names.push_back(ObjectiveName(id));
    }
    return o;
}

std::string SourceClass(v1::MetricSource source) { return "src-" + SourceName(source); }

std::string TrialTip(const v1::Trial& t, const Objectives& o) {
    std::string tip = "trial " + std::to_string(t.number()) + " (" + ShortId(t.trial_id()) + ")";
    for (size_t i = 0; i < o.ids.size(); ++i) {
        if (const auto v = ValueOf(t, o.ids[i])) {
            tip +=
                "\n" + o.names[i] + " " + ShortNumber(v->value()) + " " + SourceName(v->source());
        }
    }
    return tip;
}

// The Pareto front: every complete trial, front members marked. With three or
// more objectives, a scatter matrix (each pair of objectives once per side).
std::string FrontPlot(const std::vector<const v1::Trial*>& complete,
                      const std::set<std::string>& front, const Objectives& o) {
    if (o.ids.size() < 2) return "";
    const size_t k = o.ids.size();
    if (k == 2) {
        XY plot;
        plot.id = "plot-front";
        plot.title = "Pareto front: " + o.names[1] + " against " + o.names[0];
        plot.x_label = o.names[0];
        plot.y_label = o.names[1];
        plot.empty = "no complete trials yet";
        for (const v1::Trial* t : complete) {
            const auto a = ValueOf(*t, o.ids[0]), b = ValueOf(*t, o.ids[1]);
            if (!a || !b) continue;
            plot.points.push_back({a->value(), b->value(),
                                   front.count(t->trial_id()) ? "front" : "dominated",
                                   TrialTip(*t, o)});
        }
        return XYPlot(plot);
    }
    const double cell = k > 4 ? 150 : 180, margin = 64;
    const double width = margin + cell * static_cast<double>(k) + 12;
    const double height = 12 + cell * static_cast<double>(k) + 40;
    std::ostringstream svg;
    const std::string title =
        "Pareto front: scatter matrix of " + std::to_string(k) + " objectives";
    svg << OpenSvg("plot-front", title, width, height);
    for (size_t row = 0; row < k; ++row) {
        for (size_t col = 0; col < k; ++col) {
            Panel p;
            p.x0 = margin + cell * static_cast<double>(col) + 4;
            p.y0 = 12 + cell * static_cast<double>(row) + 4;
            p.w = cell - 8;
            p.h = cell - 8;
            p.x_ticks = row + 1 == k;
            p.y_ticks = col == 0;
            p.inner_labels_only = true;
            std::vector<double> xs, ys;
            std::vector<Point> points;
            for (const v1::Trial* t : complete) {
                const auto a = ValueOf(*t, o.ids[col]), b = ValueOf(*t, o.ids[row]);
                if (!a || !b) continue;
                xs.push_back(a->value());
                ys.push_back(b->value());
                points.push_back({a->value(), b->value(),
                                  front.count(t->trial_id()) ? "front" : "dominated",
                                  TrialTip(*t, o)});
            }
            p.x = MakeAxis(xs, p.x0, p.x0 + p.w, 3);
            p.y = MakeAxis(ys, p.y0 + p.h, p.y0, 3);
            svg << "<g class=\"cell\" data-x=\"" << o.names[col] << "\" data-y=\"" << o.names[row]
                << "\">\n";
            if (row == col) {  // the diagonal names the objective
                svg << "<rect class=\"frame diag\" x=\"" << Fixed(p.x0, 1) << "\" y=\""
                    << Fixed(p.y0, 1) << "\" width=\"" << Fixed(p.w, 1) << "\" height=\""
                    << Fixed(p.h, 1) << "\"/><text class=\"diagname\" text-anchor=\"middle\" x=\""
                    << Fixed(p.x0 + p.w / 2, 1) << "\" y=\"" << Fixed(p.y0 + p.h / 2, 1) << "\">"
                    << Escape(o.names[row]) << "</text>\n";
            } else {
                DrawFrame(svg, p);
                DrawPoints(svg, p, points, 3.5);
                if (points.empty()) EmptyNote(svg, p, "no data");
            }
            svg << "</g>\n";
        }
    }
    svg << "</svg>\n";
    return "<figure>" + svg.str() + "<figcaption>" + Escape(title) +
           " (row: y axis, column: x axis; red: on the front)</figcaption></figure>\n";
}

std::string HypervolumePlot(const ReportData& d) {
    XY plot;
    plot.id = "plot-hypervolume";
    plot.title = "Hypervolume over completed trials";
    plot.x_label = "completed trials";
    plot.y_label = "hypervolume";
    plot.empty = "no hypervolume recorded yet";
    plot.steps = true;
    for (const auto& [n, hv] : d.hypervolume) {
        Point pt{static_cast<double>(n), hv, "hv",
                 std::to_string(n) + " trials: hypervolume " + ShortNumber(hv)};
        plot.line.push_back(pt);
        plot.points.push_back(pt);
    }
    return XYPlot(plot);
}

std::string ObjectivePlots(const std::vector<const v1::Trial*>& complete,
                           const std::set<std::string>& front, const Objectives& o) {
    std::string out;
    for (size_t i = 0; i < o.ids.size(); ++i) {
        XY plot;
        plot.id = "plot-objective-" + Lower(o.names[i]);
        plot.title = o.names[i] + " by trial";
        plot.x_label = "trial number";
        plot.y_label = o.names[i];
        plot.empty = "no complete trials yet";
        // The best so far, as a step line under the points.
        double best = std::numeric_limits<double>::infinity();
        for (const v1::Trial* t : complete) {
            const auto v = ValueOf(*t, o.ids[i]);
            if (!v) continue;
            plot.points.push_back(
                {static_cast<double>(t->number()), v->value(),
                 SourceClass(v->source()) + (front.count(t->trial_id()) ? " front-ring" : ""),
                 TrialTip(*t, o)});
            if (v->value() < best) {
                best = v->value();
                plot.line.push_back({static_cast<double>(t->number()), best, "", ""});
            }
        }
        if (!plot.line.empty() && !plot.points.empty()) {
            plot.line.push_back({plot.points.back().x, best, "", ""});
        }
        plot.steps = true;
        out += XYPlot(plot);
    }
    return out;
}

// Prediction (the cost model's, stored when the trial was trained) against the
// newest measurement of the same quantity.
std::string PredictionPlot(const std::vector<const v1::Trial*>& trials, bool sram) {
    XY plot;
    plot.id = sram ? "plot-sram" : "plot-flash";
    const std::string what = sram ? "SRAM" : "flash";
    plot.title = "Measured against predicted " + what + " (bytes)";
    plot.x_label = "predicted " + what + " (cost model)";
    plot.y_label = "measured " + what;
    plot.empty = "no measured trials";
    plot.diagonal = true;
    for (const v1::Trial* t : trials) {
        if (t->measurements_size() == 0) continue;
        const v1::Measurement& m = t->measurements(t->measurements_size() - 1);
        const auto predicted =
            MetricOf(*t, sram ? catalog::kPredictedSramBytes : catalog::kPredictedFlashBytes);
        const int64_t measured = sram ? m.sram().total_bytes() : m.flash().total_bytes();
        if (!predicted || measured <= 0) continue;
        const double error = (static_cast<double>(measured) - *predicted) / *predicted * 100;
        plot.points.push_back(
            {*predicted, static_cast<double>(measured), SourceClass(m.source()),
             "trial " + std::to_string(t->number()) + ": predicted " + ShortNumber(*predicted) +
                 ", measured " + ShortNumber(static_cast<double>(measured)) + " (" +
                 Fixed(error, 1) + "%, " + SourceName(m.source()) + " on " + m.board_type() + ")"});
    }
    return XYPlot(plot);
}

std::string Badge(v1::MetricSource source) {
    return "<span class=\"badge " + SourceClass(source) + "\">" + SourceName(source) + "</span>";
}

std::string FrontTable(const ReportData& d, const Objectives& o) {
    std::ostringstream h;
    h << "<table id=\"front-table\"><thead><tr><th>trial</th><th>id</th>";
    for (const std::string& name : o.names) h << "<th>" << Escape(name) << "</th>";
    h << "<th>int8 val acc</th><th>int8 test acc</th><th>board</th><th>timing</th>"
         "<th>energy</th><th>outputs = host</th></tr></thead><tbody>\n";
    for (const v1::Trial& t : d.front.trials()) {
        h << "<tr><td>" << t.number() << "</td><td class=\"id\" title=\"" << Escape(t.trial_id())
          << "\">" << Escape(ShortId(t.trial_id())) << "</td>";
        for (int id : o.ids) {
            const auto v = ValueOf(t, id);
            h << "<td>" << (v ? ShortNumber(v->value()) + " " + Badge(v->source()) : "-")
              << "</td>";
        }
        const auto val = MetricOf(t, catalog::kInt8ValAccuracy);
        const auto test = MetricOf(t, catalog::kInt8TestAccuracy);
        h << "<td>" << (val ? Fixed(*val, 4) : "-") << "</td><td>" << (test ? Fixed(*test, 4) : "-")
          << "</td>";
        if (t.measurements_size() > 0) {
            const v1::Measurement& m = t.measurements(t.measurements_size() - 1);
            h << "<td>" << Escape(m.board_type()) << "<br><span class=\"dim\">"
              << Escape(m.board_id()) << "</span></td><td>" << ShortNumber(m.latency_ms()) << " ms "
              << Badge(m.source());
            if (!m.provenance().timing_method().empty()) {
                h << "<br><span class=\"dim\">" << Escape(m.provenance().timing_method())
                  << "</span>";
            }
            h << "</td><td>" << ShortNumber(m.energy_uj()) << " µJ " << Badge(m.energy_source())
              << "</td><td>"
              << (m.outputs_checked() > 0
                      ? (m.outputs_match_host() ? "yes" : "NO") + std::string(" (") +
                            std::to_string(m.outputs_checked()) + ")"
                      : "-")
              << "</td>";
        } else {
            h << "<td>-</td><td>not measured</td><td>-</td><td>-</td>";
        }
        h << "</tr>\n";
    }
    h << "</tbody></table>\n";
    if (d.front.trials_size() == 0) h << "<p class=\"dim\">No trial is on the front yet.</p>\n";
    return h.str();
}

constexpr char kStyle[] = R"(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.dim { color: #6b7385; font-size: 12px; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.summary dt { color: #6b7385; } dl.summary dd { margin: 0; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; } figcaption { font-size: 12px; color: #6b7385; max-width: 460px; }
svg.plot { background: #fff; border: 1px solid #e3e6ec; display: block; }
svg .frame { fill: #fafbfc; stroke: #c9ced8; } svg .frame.diag { fill: #eef1f6; }
svg .grid { stroke: #e8ebf0; } svg .tick { font-size: 10px; fill: #6b7385; }
svg .label { font-size: 12px; fill: #1d2330; } svg .diagname { font-size: 12px; font-weight: 600; }
svg .empty { font-size: 12px; fill: #9aa1b0; }
svg .series { fill: none; stroke: #4062bb; stroke-width: 1.5; }
svg .diagonal { stroke: #9aa1b0; stroke-dasharray: 4 3; }
svg .pt { stroke: #fff; stroke-width: 0.8; }
svg .pt.dominated { fill: #b9bfcc; } svg .pt.front { fill: #d7263d; }
svg .pt.hv { fill: #4062bb; }
svg .pt.front-ring { stroke: #d7263d; stroke-width: 2; }
.src-measured { fill: #1b998b; background: #1b998b; }
.src-emulated { fill: #4062bb; background: #4062bb; }
.src-estimated { fill: #f18f01; background: #f18f01; }
.src-computed { fill: #8a8fa0; background: #8a8fa0; }
.src-evaluated { fill: #7b2cbf; background: #7b2cbf; }
.badge { color: #fff; border-radius: 3px; padding: 0 4px; font-size: 11px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e6ec; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f3f5f8; } td.id { font-family: ui-monospace, monospace; }
.legend span { margin-right: 12px; }
)";

}  // namespace

std::string RenderReport(const ReportData& d) {
    const Objectives o = JobObjectives(d);
    std::vector<const v1::Trial*> complete;
    for (const v1::Trial& t : d.trials) {
        if (t.state() == v1::TRIAL_COMPLETE) complete.push_back(&t);
    }
    std::set<std::string> front;
    for (const v1::Trial& t : d.front.trials()) front.insert(t.trial_id());
    std::sort(complete.begin(), complete.end(),
              [](const v1::Trial* a, const v1::Trial* b) { return a->number() < b->number(); });
    const v1::Job& job = d.job;
    const v1::TrialCounts& n = job.trials();
    const std::string name = job.spec().name().empty() ? job.job_id() : job.spec().name();

    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<meta name=\"generator\" content=\"" << Escape(d.generator) << "\">\n"
      << "<title>hilnas report: " << Escape(name) << "</title>\n<style>" << kStyle
      << "</style></head>\n<body>\n"
      << "<h1>hilnas report: " << Escape(name) << "</h1>\n"
      << "<p class=\"dim\">Generated " << Escape(d.generated_at) << " by " << Escape(d.generator)
      << ". Self-contained: no scripts, no network.</p>\n";

    h << "<dl class=\"summary\">"
      << "<dt>job</dt><dd>" << Escape(job.job_id()) << "</dd>"
      << "<dt>owner</dt><dd>" << Escape(job.owner()) << "</dd>"
      << "<dt>state</dt><dd>" << JobStateName(job.state())
      << (job.error().empty() ? "" : ": " + Escape(job.error())) << "</dd>"
      << "<dt>board</dt><dd>" << Escape(job.spec().board_type()) << "</dd>"
      << "<dt>dataset</dt><dd>" << Escape(job.spec().dataset().name()) << "</dd>"
      << "<dt>objectives</dt><dd>";
    for (size_t i = 0; i < o.names.size(); ++i) h << (i ? ", " : "") << Escape(o.names[i]);
    h << " (all minimised)</dd>"
      << "<dt>trials</dt><dd>" << n.complete() << " complete of a budget of "
      << job.spec().budget().max_trials() << "; " << n.pending() + n.training() << " training, "
      << n.trained() + n.measuring() << " measuring, " << n.failed() << " failed, "
      << n.infeasible() << " infeasible, " << n.stale() << " stale</dd>"
      << "<dt>front</dt><dd>" << d.front.trials_size() << " trials, hypervolume "
      << ShortNumber(d.front.hypervolume()) << " (objectives over the reference point ";
    for (int i = 0; i < d.front.reference_point_size(); ++i) {
        h << (i ? ", " : "") << ShortNumber(d.front.reference_point(i));
    }
    h << ")</dd></dl>\n";

    h << "<p class=\"legend dim\">Sources: <span><span class=\"badge src-measured\">measured"
         "</span> a real board</span><span><span class=\"badge src-emulated\">emulated</span> "
         "QEMU instruction counts</span><span><span class=\"badge src-estimated\">estimated"
         "</span> a model of the board</span><span><span class=\"badge src-computed\">computed"
         "</span> the cost model</span><span><span class=\"badge src-evaluated\">evaluated"
         "</span> the host int8 runtime</span></p>\n";

    h << "<h2>Pareto front</h2>\n<div class=\"plots\">" << FrontPlot(complete, front, o)
      << HypervolumePlot(d) << "</div>\n";
    h << "<h2>Objectives over trials</h2>\n<p class=\"dim\">Each complete trial, coloured by "
         "the source of the value; ringed: on the front; line: the best so far.</p>\n"
      << "<div class=\"plots\">" << ObjectivePlots(complete, front, o) << "</div>\n";
    h << "<h2>Measured against predicted memory</h2>\n<p class=\"dim\">The cost model's "
         "prediction, stored when the trial was trained, against the newest measurement "
         "(SRAM: .data + .bss + stack high-water mark; flash: .text + .rodata + .data). "
         "Dashed: measured = predicted.</p>\n"
      << "<div class=\"plots\">" << PredictionPlot(complete, true)
      << PredictionPlot(complete, false) << "</div>\n";
    h << "<h2>Front members</h2>\n" << FrontTable(d, o);
    h << "</body></html>\n";
    return h.str();
}

}  // namespace hilnas::cli
