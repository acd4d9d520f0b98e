// The job report: one self-contained HTML page (no network, no scripts) whose
// plots are inline SVG drawn here. Each plot is an <svg class="plot"> with a
// stable id (plot-front, plot-hypervolume, plot-objective-<name>,
// plot-sram, plot-flash); each data point is an element of class "pt".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "hilnas/v1/search_service.pb.h"

namespace hilnas::cli {

struct ReportData {
    v1::Job job;
    std::vector<v1::Trial> trials;  // every trial of the job
    v1::ParetoFront front;
    // The job's recorded hypervolume: (completed trials, hypervolume), in order.
    std::vector<std::pair<int, double>> hypervolume;
    std::string generated_at;  // e.g. "2026-11-30 08:00:00 UTC"
    std::string generator;     // e.g. "hilnas 0.1.0"
};

// The page. A pure function of `data`.
std::string RenderReport(const ReportData& data);

}  // namespace hilnas::cli
