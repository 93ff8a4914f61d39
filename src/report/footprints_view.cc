#include "report/footprints_view.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/shell_quote.h"
#include "util/units.h"

namespace headroom {
namespace {

constexpr char kWordSeparator = '\x1f';
constexpr std::string_view kWorkerSuffix = "\x1eworker";

// The class key back as the command it came from, shell-quoted.
std::string CommandOf(const std::string& job_class) {
  std::string_view key = job_class;
  bool worker_base = key.ends_with(kWorkerSuffix);
  if (worker_base) key.remove_suffix(kWorkerSuffix.size());
  std::vector<std::string> words;
  std::string word;
  for (char c : key) {
    if (c == kWordSeparator) {
      words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  std::string command = ShellJoin(words);
  return worker_base ? "(worker base) " + command : command;
}

template <typename T>
std::optional<T> Median(std::vector<T> values) {
  if (values.empty()) return std::nullopt;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

std::string SizeOr(const std::optional<uint64_t>& bytes) {
  return bytes ? FormatSize(*bytes) : "-";
}

}  // namespace

std::string FootprintClassId(const std::string& job_class) {
  uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : job_class) {
    hash ^= c;
    hash *= 16777619u;
  }
  return fmt::format("{:08x}", hash);
}

std::vector<FootprintClassView> BuildFootprintsView(
    const std::vector<FootprintClassRecord>& classes, const std::vector<FootprintRecord>& recent) {
  std::map<std::string, FootprintClassView> by_class;
  std::map<std::string, std::vector<uint64_t>> vram, rss;
  std::map<std::string, std::vector<double>> seconds;
  auto entry = [&](const std::string& job_class) -> FootprintClassView& {
    FootprintClassView& view = by_class[job_class];
    if (view.job_class.empty()) {
      view.job_class = job_class;
      view.id = FootprintClassId(job_class);
      view.command = CommandOf(job_class);
    }
    return view;
  };
  for (const FootprintClassRecord& c : classes) {
    FootprintClassView& view = entry(c.job_class);
    view.jobs = c.jobs;
    view.last_t = c.last_t;
  }
  for (const FootprintRecord& f : recent) {
    FootprintClassView& view = entry(f.job_class);
    ++view.samples;
    view.last_t = std::max(view.last_t, f.t);
    if (f.kind == "vram") vram[f.job_class].push_back(f.value);
    if (f.kind == "rss") rss[f.job_class].push_back(f.value);
    if (f.kind == "wall_ms") seconds[f.job_class].push_back(static_cast<double>(f.value) / 1000);
  }
  std::vector<FootprintClassView> view;
  for (auto& [job_class, v] : by_class) {
    const std::vector<uint64_t>& peaks = vram[job_class];
    v.vram_median = Median(peaks);
    if (!peaks.empty()) v.vram_max = *std::max_element(peaks.begin(), peaks.end());
    const std::vector<uint64_t>& rss_peaks = rss[job_class];
    if (!rss_peaks.empty()) v.rss_max = *std::max_element(rss_peaks.begin(), rss_peaks.end());
    v.seconds_median = Median(seconds[job_class]);
    view.push_back(std::move(v));
  }
  std::stable_sort(view.begin(), view.end(), [](const auto& a, const auto& b) {
    return a.last_t > b.last_t;
  });
  return view;
}

std::string FormatFootprintsText(const std::vector<FootprintClassView>& view, double now) {
  if (view.empty()) {
    return "nothing learned yet: a batch run with this state dir teaches each command's "
           "footprint\n";
  }
  std::string out = fmt::format("{:<8}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n", "ID",
                                "JOBS", "VRAM p50", "VRAM max", "RAM max", "TIME p50", "AGE",
                                "COMMAND");
  for (const FootprintClassView& v : view) {
    std::string age = v.last_t > 0 ? FormatDuration(std::max(0.0, now - v.last_t)) : "-";
    std::string time = v.seconds_median ? FormatDuration(*v.seconds_median) : "-";
    out += fmt::format("{:<8}  {:>6}  {:>10}  {:>10}  {:>10}  {:>8}  {:>8}  {}\n", v.id, v.jobs,
                       SizeOr(v.vram_median), SizeOr(v.vram_max), SizeOr(v.rss_max), time, age,
                       Printable(v.command));
  }
  return out;
}

std::string FormatFootprintsJson(const std::vector<FootprintClassView>& view) {
  nlohmann::json classes = nlohmann::json::array();
  auto optional = [](const auto& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  for (const FootprintClassView& v : view) {
    classes.push_back({{"id", v.id},
                       {"command", v.command},
                       {"jobs", v.jobs},
                       {"samples", v.samples},
                       {"last_learned", v.last_t > 0 ? nlohmann::json(v.last_t) : nullptr},
                       {"vram_median", optional(v.vram_median)},
                       {"vram_max", optional(v.vram_max)},
                       {"rss_max", optional(v.rss_max)},
                       {"seconds_median", optional(v.seconds_median)}});
  }
  return nlohmann::json{{"classes", classes}}.dump(-1, ' ', false,
                                                    nlohmann::json::error_handler_t::replace) +
         "\n";
}

Status FindFootprintClass(const std::vector<FootprintClassView>& view, const std::string& what,
                          std::vector<std::string>* job_classes) {
  job_classes->clear();
  for (const FootprintClassView& v : view) {
    if (v.id != what && v.command != what) continue;
    job_classes->push_back(v.job_class);
    // A command's workers' own memory goes with it.
    std::string base = v.job_class + std::string(kWorkerSuffix);
    for (const FootprintClassView& other : view) {
      if (other.job_class == base) job_classes->push_back(base);
    }
  }
  if (!job_classes->empty()) return Status::Ok();
  return Status::Error(fmt::format(
      "--forget {}: no class has that id or command (expected an ID from 'headroom footprints')",
      Printable(what)));
}

Status LoadFootprintsView(const std::string& state_dir, std::vector<FootprintClassView>* view) {
  view->clear();
  struct stat info {};
  if (stat(Journal::PathIn(state_dir).c_str(), &info) != 0) return Status::Ok();
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(state_dir, &journal);
  if (!status.ok()) return status;
  std::vector<FootprintClassRecord> classes;
  std::vector<FootprintRecord> recent;
  status = journal->FootprintClasses(&classes);
  if (status.ok()) status = journal->RecentFootprints(static_cast<size_t>(-1) >> 1, &recent);
  if (status.ok()) *view = BuildFootprintsView(classes, recent);
  return status;
}

}  // namespace headroom
