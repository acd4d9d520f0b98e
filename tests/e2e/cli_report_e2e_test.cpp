// `hilnas report` over a job in a real controller and PostgreSQL, opened in
// headless Chromium: the page is self-contained, every plot is drawn with a
// non-zero size and one mark per data point, and a screenshot is a PNG.
// Chromium is required (Debian's chromium; HILNAS_CHROMIUM names another):
// without it the test fails, it never skips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_support.h"
#include "hilnas/rpc/channel.h"
#include "hilnas/testing/controller.h"
#include "hilnas/testing/pg.h"
#include "hilnas/testing/temp_dir.h"
#include "hilnas/v1/search_service.grpc.pb.h"

namespace hilnas {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using testing::Hilnas;

std::string Chromium() {
    const char* configured = std::getenv("HILNAS_CHROMIUM");
    return configured != nullptr && *configured != '\0' ? configured : "/usr/bin/chromium";
}

ProcessResult RunChromium(const testing::TempDir& dir, std::vector<std::string> args) {
    ProcessOptions p;
    p.argv = {Chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--user-data-dir=" + (dir / "profile"),
              // Nothing may be fetched: the page must render from its own bytes.
              "--host-resolver-rules=MAP * ~NOTFOUND"};
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    p.env = {{"HOME", dir.path().string()}};
    p.timeout = 300s;
    return RunProcess(p);
}

// Appended to a copy of the report: writes each plot's box and how many of
// its data marks have a non-zero box into the DOM, for --dump-dom to carry out.
constexpr char kProbe[] = R"(<script>
const probe = [];
for (const svg of document.querySelectorAll('svg.plot')) {
  const r = svg.getBoundingClientRect();
  const marks = svg.querySelectorAll('.pt');
  let drawn = 0;
  for (const m of marks) { const b = m.getBoundingClientRect(); if (b.width > 0 && b.height > 0) drawn++; }
  probe.push({id: svg.id, width: r.width, height: r.height, marks: marks.length, drawn: drawn});
}
const rows = document.querySelectorAll('#front-table tbody tr').length;
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify({plots: probe, front_rows: rows});
document.body.appendChild(pre);
</script>)";

nlohmann::json ProbeFromDom(const std::string& dom) {
    const std::string open = "<pre id=\"probe\">";
    const size_t begin = dom.find(open);
    if (begin == std::string::npos) return nullptr;
    const size_t end = dom.find("</pre>", begin);
    std::string text = dom.substr(begin + open.size(), end - begin - open.size());
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&amp;", "&"}}) {
        for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
            text.replace(at, from.size(), to);
            at += to.size();
        }
    }
    return nlohmann::json::parse(text);
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

TEST(CliReport, DrawsEveryPlotInHeadlessChromium) {
    ASSERT_EQ(::access(Chromium().c_str(), X_OK), 0)
        << Chromium() << " is missing: install Debian's chromium (deploy/install-deps.sh) or set "
        << "HILNAS_CHROMIUM";
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("report"), dir.path().string(),
                                          {"--scheduler.tick", "200ms"});
    const std::string job_id = testing::RunSmallJob(controller.address());
    ASSERT_FALSE(job_id.empty()) << controller.Log();

    const std::string html_path = dir / "report.html";
    const ProcessResult r =
        Hilnas({"report", job_id, "-o", html_path, "--controller", controller.address()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto summary = nlohmann::json::parse(r.out);
    const std::string html = testing::Slurp(html_path);
    EXPECT_EQ(summary.at("bytes").get<size_t>(), html.size());

    // The expectations, from the API.
    auto stub = v1::SearchService::NewStub(rpc::MakeChannel(controller.address()));
    v1::ParetoFront front;
    {
        v1::GetParetoFrontRequest req;
        req.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s);
        ASSERT_TRUE(stub->GetParetoFront(ctx.get(), req, &front).ok());
    }
    v1::ListTrialsResponse trials;
    {
        v1::ListTrialsRequest req;
        req.set_job_id(job_id);
        auto ctx = rpc::MakeContext(10s);
        ASSERT_TRUE(stub->ListTrials(ctx.get(), req, &trials).ok());
    }
    int complete = 0, measured = 0;
    for (const auto& t : trials.trials()) {
        complete += t.state() == v1::TRIAL_COMPLETE;
        measured += t.state() == v1::TRIAL_COMPLETE && t.measurements_size() > 0;
    }
    ASSERT_GT(complete, 0);
    ASSERT_GT(measured, 0);
    const int k = front.objectives_size();
    ASSERT_GE(k, 3);  // a scatter matrix

    // Self-contained: nothing to fetch, no script of its own.
    for (const char* outside : {"<script", "<link", "src=", "href=", "url(", "@import"}) {
        EXPECT_THAT(html, Not(HasSubstr(outside))) << outside;
    }
    for (const auto& t : front.trials()) EXPECT_THAT(html, HasSubstr(t.trial_id()));

    // The plots as Chromium lays them out.
    const std::string probe_path = dir / "probe.html";
    std::string probed = html;
    probed.insert(probed.rfind("</body>"), kProbe);
    std::ofstream(probe_path) << probed;
    const ProcessResult dom = RunChromium(dir, {"--dump-dom", "file://" + probe_path});
    ASSERT_TRUE(dom.ok()) << dom.Describe() << "\n" << dom.err;
    const nlohmann::json probe = ProbeFromDom(dom.out);
    ASSERT_FALSE(probe.is_null()) << "no probe in the DOM:\n" << dom.out.substr(0, 2000);

    std::map<std::string, int> expected = {
        // plot id -> its data marks
        {"plot-front", complete * k * (k - 1)},
        {"plot-hypervolume", summary.at("hypervolume_points").get<int>()},
        {"plot-sram", measured},
        {"plot-flash", measured}};
    for (int o : front.objectives()) {
        std::string name = v1::Objective_Name(static_cast<v1::Objective>(o)).substr(10);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        expected["plot-objective-" + name] = complete;
    }
    EXPECT_GT(expected["plot-hypervolume"], 0);
    std::set<std::string> seen;
    for (const auto& plot : probe.at("plots")) {
        const std::string id = plot.at("id");
        seen.insert(id);
        EXPECT_GT(plot.at("width").get<double>(), 0) << id;
        EXPECT_GT(plot.at("height").get<double>(), 0) << id;
        ASSERT_TRUE(expected.count(id)) << "unexpected plot " << id;
        EXPECT_EQ(plot.at("marks").get<int>(), expected[id]) << id;
        EXPECT_EQ(plot.at("drawn").get<int>(), plot.at("marks").get<int>()) << id;
    }
    EXPECT_EQ(seen.size(), expected.size()) << probe.dump();
    EXPECT_EQ(probe.at("front_rows").get<int>(), front.trials_size());

    // A screenshot of the page itself (no probe).
    const std::string png_path = dir / "report.png";
    const ProcessResult shot = RunChromium(
        dir, {"--screenshot=" + png_path, "--window-size=1400,2600", "file://" + html_path});
    ASSERT_TRUE(shot.ok()) << shot.Describe() << "\n" << shot.err;
    const std::string png = testing::Slurp(png_path);
    ASSERT_GT(png.size(), 24u);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png.substr(12, 4), "IHDR");
    EXPECT_EQ(BigEndian32(png, 16), 1400u);
    EXPECT_EQ(BigEndian32(png, 20), 2600u);

    // To look at the page and its screenshot after a run.
    if (const char* keep = std::getenv("HILNAS_TEST_KEEP_REPORT"); keep != nullptr && *keep) {
        std::filesystem::create_directories(keep);
        std::filesystem::copy_file(html_path, std::string(keep) + "/report.html",
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::copy_file(png_path, std::string(keep) + "/report.png",
                                   std::filesystem::copy_options::overwrite_existing);
    }
}

// A job that has not produced anything yet still gets a whole page: every
// plot is there, saying it has no data.
TEST(CliReport, ReportsAJobWithNoResultsYet) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("report_empty"),
                                          dir.path().string());
    const std::string job_id = testing::SubmitSmallJob(controller.address());
    ASSERT_FALSE(job_id.empty()) << controller.Log();
    const ProcessResult r =
        Hilnas({"report", job_id, "-o", dir / "r.html", "--controller", controller.address()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string html = testing::Slurp(dir / "r.html");
    for (const char* id :
         {"plot-front", "plot-hypervolume", "plot-objective-error", "plot-sram", "plot-flash"}) {
        EXPECT_THAT(html, HasSubstr(std::string("id=\"") + id + "\"")) << id;
    }
    EXPECT_THAT(html, HasSubstr("no complete trials yet"));
    EXPECT_THAT(html, Not(HasSubstr("class=\"pt")));
    EXPECT_EQ(nlohmann::json::parse(r.out).at("front").get<int>(), 0);
}

TEST(CliReport, BadInputIsOneLine) {
    testing::TempDir dir;
    testing::ControllerProcess controller(testing::FreshDatabase("report_bad"),
                                          dir.path().string());
    const ProcessResult no_out = Hilnas(
        {"report", "00000000-0000-0000-0000-000000000000", "--controller", controller.address()});
    EXPECT_EQ(no_out.exit_code, 2);
    EXPECT_EQ(testing::Lines(no_out.err), 1) << no_out.err;
    EXPECT_THAT(no_out.err, HasSubstr("-o: is required"));
    const ProcessResult unknown = Hilnas({"report", "00000000-0000-0000-0000-000000000000", "-o",
                                          dir / "r.html", "--controller", controller.address()});
    EXPECT_EQ(unknown.exit_code, 3);  // not found, apart from bad input
    EXPECT_EQ(testing::Lines(unknown.err), 1) << unknown.err;
    EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
    EXPECT_FALSE(std::filesystem::exists(dir / "r.html"));
}

}  // namespace
}  // namespace hilnas
