// End-to-end: the JSON report (`run --report FILE`, `report --json FILE`) and
// the HTML report (`report --html FILE`) of batches that the real binary ran
// and journaled (src/journal/journal_recorder), on the simulated GPU; the HTML
// is rendered by a real headless browser (Debian's chromium), whose DOM must
// hold the timeline and whose screenshot must show it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace headroom::e2e {
namespace {

using Json = nlohmann::json;

// Decodes an 8-bit RGB/RGBA PNG (no interlace; what chromium writes) and
// prints "WIDTH HEIGHT HITS INK": pixels of the colour argv[2] ("R,G,B") and
// pixels that are not white.
constexpr const char* kPngScript = R"(
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n':
    sys.exit('not a PNG')
pos, idat = 8, b''
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    pos += 12 + length
    if kind == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
    elif kind == b'IDAT':
        idat += body
if depth != 8 or ctype not in (2, 6) or interlace:
    sys.exit('unsupported PNG: depth %d type %d interlace %d' % (depth, ctype, interlace))
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
target = bytes(int(c) for c in sys.argv[2].split(','))
prev, i, hits, ink = bytearray(stride), 0, 0, 0
for _ in range(h):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1: line[x] = (line[x] + a) & 255
        elif kind == 2: line[x] = (line[x] + b) & 255
        elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        pixel = bytes(line[x:x + 3])
        hits += pixel == target
        ink += pixel != b'\xff\xff\xff'
    prev = line
print(w, h, hits, ink)
)";

// The timeline's colours (AttemptColor in src/report/html_report.cc).
constexpr const char* kSucceededRgb = "46,158,91";  // #2e9e5b
constexpr const char* kFailedRgb = "214,69,69";     // #d64545

// The first of `names` on PATH, as an absolute path; "" when none is.
std::string FindProgram(const std::vector<std::string>& names) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::vector<std::string> list;
  for (std::string dir; std::getline(dirs, dir, ':');) list.push_back(dir.empty() ? "." : dir);
  for (const std::string& name : names) {
    for (const std::string& dir : list) {
      std::string candidate = dir + "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return "";
}

class ReportTest : public E2eTest {
 protected:
  void SetUp() override {
    WriteFile(Path("sim.json"),
              R"({"devices": [{"name": "SimGPU", "memory_mib": 10240, "temperature_c": 45}]})");
  }
  RunOptions SimOpts() const {
    RunOptions options = Opts();
    std::string bin = HEADROOM_SIMGPU_BIN;
    options.env.push_back("HEADROOM_GPU_SIM=" + Path("sim.json"));
    options.env.push_back("PATH=" + bin.substr(0, bin.rfind('/')) + ":/usr/bin:/bin");
    return options;
  }
  // Holds `mib` of the simulated GPU for `seconds`; input "bad" sleeps that
  // long and exits 3 instead.
  std::string AllocJob(int mib, double seconds) const {
    return Script("alloc.sh", "[ \"$1\" != bad ] || { sleep " + std::to_string(seconds) +
                                  "; exit 3; }\nexec headroom-simgpu alloc --mib " +
                                  std::to_string(mib) + " --seconds " + std::to_string(seconds) +
                                  "\n");
  }
  Json ReadJson(const std::string& path) const {
    Json json = Json::parse(ReadFile(path), nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << path << ":\n" << ReadFile(path);
    return json.is_discarded() ? Json() : json;
  }
};

TEST_F(ReportTest, RunWritesTheJsonReportAtTheEndAndReportAgrees) {
  std::string job = AllocJob(256, 0.2);
  RunResult r = Hr({"run", "-j2", "--gpu-mem", "1G", "--monitor-interval", "50ms", "--report",
                    Path("run.json"), "--", job, "{}", ":::", "a", "b", "bad"},
                   SimOpts());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  Json json = ReadJson(Path("run.json"));
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["report_version"], 1);
  EXPECT_EQ(json["batch"]["id"], 1);
  EXPECT_EQ(json["batch"]["state"], "finished");
  EXPECT_EQ(json["batch"]["exit_code"], 1);
  EXPECT_TRUE(Contains(json["batch"]["command"].get<std::string>(), "alloc.sh")) << json["batch"];
  EXPECT_GT(json["batch"]["elapsed_s"].get<double>(), 0.2);
  EXPECT_EQ(json["totals"]["jobs"], 3);
  EXPECT_EQ(json["totals"]["succeeded"], 2);
  EXPECT_EQ(json["totals"]["failed"], 1);
  EXPECT_EQ(json["totals"]["attempts"], 3);
  EXPECT_EQ(json["totals"]["retries"], 0);
  EXPECT_EQ(json["throughput"]["jobs_finished"], 3);
  EXPECT_GT(json["throughput"]["jobs_per_hour"].get<double>(), 0);
  ASSERT_EQ(json["jobs"].size(), 3u);
  for (const Json& job_json : json["jobs"]) {
    ASSERT_EQ(job_json["attempts"].size(), 1u) << job_json;
    const Json& attempt = job_json["attempts"][0];
    EXPECT_EQ(attempt["gpu"], 0) << job_json;
    EXPECT_GE(job_json["queue_wait_s"].get<double>(), 0) << job_json;
    bool bad = job_json["name"] == "bad";
    EXPECT_EQ(attempt["class"], bad ? "failed" : "succeeded") << job_json;
    EXPECT_EQ(attempt["exit_code"], bad ? 3 : 0) << job_json;
    if (!bad) {
      EXPECT_GE(job_json["run_s"].get<double>(), 0.2) << job_json;
    }
    // The quiet successes' empty logs are removed; the failure's stay.
    EXPECT_EQ(FileExists(attempt["stderr_log"].get<std::string>()), bad) << attempt;
  }
  ASSERT_EQ(json["gpus"].size(), 1u);
  EXPECT_EQ(json["gpus"][0]["index"], 0);
  EXPECT_EQ(json["gpus"][0]["attempts"], 3);
  EXPECT_EQ(json["gpus"][0]["memory_total"], 10240ull << 20);
  EXPECT_GT(json["gpus"][0]["busy_s"].get<double>(), 0.2);
  EXPECT_GT(json["host"]["ram_total"].get<uint64_t>(), 0u);
  // Three jobs on two slots: the third waited for a slot, and the report
  // says when.
  bool slots = false;
  for (const Json& wait : json["waits"]) {
    slots |= wait["reason"] == "slots" && wait["device"].is_null() &&
             wait["end"].get<double>() >= wait["start"].get<double>();
  }
  EXPECT_TRUE(slots) << json["waits"];
  EXPECT_TRUE(json["summary"].is_string());
  EXPECT_EQ(json["gpus"][0]["most_at_once"], 2);

  RunResult report = Hr({"report", "--json", Path("later.json"), "--html", Path("r.html"),
                         "--trace", Path("r.trace.json")});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_EQ(report.out, "");
  Json later = ReadJson(Path("later.json"));
  EXPECT_EQ(later["totals"], json["totals"]);
  EXPECT_EQ(later["jobs"], json["jobs"]);
  EXPECT_TRUE(StartsWith(ReadFile(Path("r.html")), "<!DOCTYPE html>"));
  // The Chrome trace: an event per attempt, each on its slot's track of
  // the gpu 0 process.
  Json trace = ReadJson(Path("r.trace.json"));
  ASSERT_TRUE(trace["traceEvents"].is_array()) << trace;
  std::set<std::string> names;
  std::set<int> pids;
  for (const Json& event : trace["traceEvents"]) {
    if (event["ph"] != "X" || event["cat"] == "wait") continue;
    names.insert(event["name"].get<std::string>());
    pids.insert(event["pid"].get<int>());
    EXPECT_GT(event["dur"].get<int64_t>(), 0) << event;
  }
  EXPECT_EQ(names, (std::set<std::string>{"a", "b", "bad"}));
  EXPECT_EQ(pids.size(), 1u);
}

TEST_F(ReportTest, OutOfMemoryRetriesAndLimitChangesAreReported) {
  // Declared 1 GiB, each job takes 4 GiB of 10: four start at once, two run
  // out of memory, the limit drops, and they are retried.
  std::string job = AllocJob(4096, 0.4);
  RunResult r = Hr({"run", "-j4", "--gpu-mem", "1G", "--retry-delay", "0.1s", "--monitor-interval",
                    "50ms", "--report", Path("r.json"), "--", job, "{}", ":::", "a", "b", "c", "d"},
                   SimOpts());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json json = ReadJson(Path("r.json"));
  ASSERT_TRUE(json.is_object());
  EXPECT_GE(json["totals"]["oom_retries"].get<int>(), 1) << json["totals"];
  EXPECT_EQ(json["totals"]["oom_retries"], json["totals"]["oom_attempts"]);
  EXPECT_EQ(json["totals"]["retries"], json["totals"]["oom_retries"]);
  int oom_attempts = 0;
  for (const Json& job_json : json["jobs"]) {
    for (const Json& attempt : job_json["attempts"]) oom_attempts += attempt["class"] == "oom";
    EXPECT_EQ(job_json["attempts"].back()["class"], "succeeded") << job_json;
  }
  EXPECT_EQ(oom_attempts, json["totals"]["oom_attempts"]);
  // Somewhere the limit went down because a job ran out of memory.
  bool lowered = false;
  for (size_t k = 1; k < json["limits"].size(); ++k) {
    const Json& change = json["limits"][k];
    EXPECT_EQ(change["gpu"], 0) << change;
    lowered |= change["limit"] < json["limits"][k - 1]["limit"] &&
               Contains(change["reason"].get<std::string>(), "out of memory");
  }
  EXPECT_TRUE(lowered) << json["limits"];
  EXPECT_EQ(json["gpus"][0]["limit_changes"], json["limits"].size());
}

TEST_F(ReportTest, HtmlRendersInAHeadlessBrowserWithTheTimeline) {
  std::string chromium = FindProgram({"chromium", "chromium-browser"});
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  std::string python = FindProgram({"python3"});
  ASSERT_FALSE(python.empty()) << "python3 is needed to read the screenshot (scripts/setup.sh)";

  const std::string hostile = "<img src=x onerror=alert(1)> & 'q'";
  std::string job = AllocJob(512, 0.6);
  RunResult r = Hr({"run", "-j2", "--gpu-mem", "1G", "--monitor-interval", "50ms", "--", job, "{}",
                    ":::", "a", hostile, "bad", "d"},
                   SimOpts());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  r = Hr({"report", "--html", Path("r.html")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string html = ReadFile(Path("r.html"));
  EXPECT_FALSE(Contains(html, "<script"));
  EXPECT_FALSE(Contains(html, "<img"));
  EXPECT_TRUE(Contains(html, "&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;"));

  RunOptions browser = Opts();
  browser.timeout_s = 90;
  std::vector<std::string> base = {chromium, "--headless", "--disable-gpu", "--no-sandbox",
                                   "--user-data-dir=" + Path("chromium-profile")};
  std::vector<std::string> dump = base;
  dump.insert(dump.end(), {"--dump-dom", "file://" + Path("r.html")});
  RunResult dom = RunProgram(dump, browser);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_TRUE(Contains(dom.out, "<svg id=\"timeline\"")) << dom.out.substr(0, 2000);
  EXPECT_EQ(CountOccurrences(dom.out, "<rect class=\"attempt succeeded\""), 3) << dom.out;
  EXPECT_EQ(CountOccurrences(dom.out, "<rect class=\"attempt failed\""), 1) << dom.out;
  EXPECT_FALSE(Contains(dom.out, "<img")) << "a file name became markup";
  EXPECT_TRUE(Contains(dom.out, "<svg id=\"vram\""));
  EXPECT_TRUE(Contains(dom.out, "<svg id=\"temperature\""));

  std::vector<std::string> shoot = base;
  shoot.insert(shoot.end(), {"--screenshot=" + Path("shot.png"), "--window-size=1200,900",
                             "file://" + Path("r.html")});
  RunResult shot = RunProgram(shoot, browser);
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(FileExists(Path("shot.png"))) << shot.err;
  for (const char* rgb : {kSucceededRgb, kFailedRgb}) {
    RunResult pixels = RunProgram({python, "-c", kPngScript, Path("shot.png"), rgb}, browser);
    ASSERT_EQ(pixels.exit_code, 0) << pixels.err;
    std::istringstream numbers(pixels.out);
    long width = 0, height = 0, hits = 0, ink = 0;
    numbers >> width >> height >> hits >> ink;
    EXPECT_EQ(width, 1200);
    EXPECT_EQ(height, 900);
    // Each attempt is a bar 14 px high spanning a good part of the timeline.
    EXPECT_GT(hits, 500) << "no timeline bars of colour " << rgb << " in the screenshot";
    EXPECT_GT(ink, 20000) << "the page looks empty";
  }
}

TEST_F(ReportTest, ErrorsAreOneLineAndExit2) {
  RunResult r = Hr({"report", "--json", Path("r.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: journal .headroom/journal.db: no such file (no batch has run with "
            "this state dir)\n");
  EXPECT_FALSE(FileExists(Path("r.json")));
  r = Hr({"report"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
  EXPECT_TRUE(Contains(r.err, "nothing to write")) << r.err;

  ASSERT_EQ(Hr({"run", "--", "true", ":::", "a"}).exit_code, 0);
  r = Hr({"report", "--batch", "9", "--json", Path("r.json")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "headroom: error: --batch 9: journal .headroom/journal.db has no batch 9 (the latest "
            "is 1)\n");
  r = Hr({"report", "--html", Path("no/such/dir/r.html")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "headroom: error: --html " + Path("no/such/dir/r.html") +
                       ": cannot write: No such file or directory\n");
}

TEST_F(ReportTest, AReportThatCannotBeWrittenDoesNotFailTheBatch) {
  RunResult r = Hr({"run", "--report", Path("no/such/dir/r.json"), "--", "true", ":::", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "headroom: warning: --report " + Path("no/such/dir/r.json") +
                                  ": cannot write: No such file or directory\n"))
      << r.err;
}

}  // namespace
}  // namespace headroom::e2e
