#include "report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "report/exit_text.h"
#include "util/units.h"

namespace headroom {
namespace {

// Layout, in CSS pixels. Every chart shares the time axis, so that a moment
// lines up from the timeline down to the limits.
constexpr double kWidth = 1160;
constexpr double kLeft = 120;  // lane and axis labels
constexpr double kRight = 24;
constexpr double kTop = 8;
constexpr double kLaneHeight = 14;
constexpr double kLaneGap = 3;
constexpr double kAxisHeight = 24;
constexpr double kPlotHeight = 150;
constexpr size_t kSlowest = 10;
constexpr size_t kMaxFailedRows = 200;
constexpr size_t kMaxLimitRows = 200;
constexpr size_t kMaxLimitLabels = 12;
constexpr size_t kMaxLabelBytes = 48;
constexpr double kGiB = 1024.0 * 1024 * 1024;

constexpr std::string_view kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                         "#9467bd", "#8c564b", "#e377c2", "#17becf"};

constexpr std::string_view kStyle = R"(
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px 20px;color:#222;background:#fff}
h1{font-size:19px;margin:0 0 8px}h2{font-size:15px;margin:22px 0 6px}
table{border-collapse:collapse;margin:4px 0}th,td{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
table.list th{border-bottom:1px solid #bbb}table.list td{border-bottom:1px solid #eee}pre.tail{margin:.3em 0 0;font-size:11px;color:#555;white-space:pre-wrap}
td.n,th.n{text-align:right}.muted{color:#666}.legend{margin:2px 0 0 120px}
.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:-1px}
svg{display:block}svg text{font:11px sans-serif;fill:#333}code{font-size:12px;word-break:break-all}
)";

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at text[i]; 0 if it is not one.
size_t Utf8Length(std::string_view text, size_t i) {
  auto byte = [&text](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char first = byte(i);
  if (first < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    if (first == 0xE0) low = 0xA0;   // overlong
    if (first == 0xED) high = 0x9F;  // surrogates
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    if (first == 0xF0) low = 0x90;   // overlong
    if (first == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// At most `max_bytes` of `text`, cut at a character boundary, with "…" when cut.
std::string Shorten(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "\xE2\x80\xA6";
}

std::string_view PaletteColor(int gpu) {
  constexpr size_t kColors = std::size(kPalette);
  return kPalette[static_cast<size_t>(gpu < 0 ? kColors - 1 : gpu % static_cast<int>(kColors))];
}

std::string DeviceLabel(int gpu) {
  return gpu < 0 ? std::string("host") : fmt::format("gpu {}", gpu);
}

std::string OptSize(const std::optional<uint64_t>& bytes) {
  return bytes ? FormatSize(*bytes) : std::string("-");
}

// Maps batch time (unix seconds) to x.
struct TimeAxis {
  double t0 = 0;
  double t1 = 1;
  double X(double t) const { return kLeft + (t - t0) / (t1 - t0) * (kWidth - kLeft - kRight); }
};

double TickStep(double span) {
  constexpr double kSteps[] = {0.1,  0.2,   0.5,   1,     2,     5,      10,    15,
                               30,   60,    120,   300,   600,   900,    1800,  3600,
                               7200, 10800, 21600, 43200, 86400, 172800, 604800};
  for (double step : kSteps) {
    if (span / step <= 12) return step;
  }
  return std::ceil(span / 12 / 604800) * 604800;
}

std::string TickLabel(double offset, double step) {
  if (step < 1) return fmt::format("{:.1f}s", offset);
  int64_t s = std::llround(offset);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) {
    return s % 60 == 0 ? fmt::format("{}m", s / 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  if (s < 86400) {
    return s % 3600 == 0 ? fmt::format("{}h", s / 3600)
                         : fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  }
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

// Grid lines from `top` to `bottom` and time labels under `bottom`.
std::string TimeTicks(const TimeAxis& axis, double top, double bottom) {
  std::string out;
  double span = axis.t1 - axis.t0;
  double step = TickStep(span);
  for (int i = 0; i * step <= span * (1 + 1e-9); ++i) {
    double offset = i * step;
    double x = axis.X(axis.t0 + offset);
    out += fmt::format(
        R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#e6e6e6"/>)", x, top,
        bottom);
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x,
                       bottom + 15, TickLabel(offset, step));
  }
  return out;
}

std::string SvgOpen(std::string_view id, double height, std::string_view label) {
  return fmt::format(
      R"(<svg id="{}" xmlns="http://www.w3.org/2000/svg" width="{:.0f}" height="{:.0f}" )"
      R"(viewBox="0 0 {:.0f} {:.0f}" role="img" aria-label="{}">)",
      id, kWidth, height, kWidth, height, label);
}

std::string Legend(const std::vector<std::pair<std::string, std::string_view>>& items) {
  std::string out = R"(<div class="legend">)";
  for (const auto& [label, color] : items) {
    out += fmt::format(R"(<i style="background:{}"></i>{})", color, HtmlEscape(label));
  }
  return out + "</div>\n";
}

// --- timeline -------------------------------------------------------------

// Beyond this many attempts the timeline draws each device's load as a
// density and only the attempts worth a look (failed, out of memory, timed
// out, the slowest) as bars: a page of 100,000 bars would be 20 MB and one
// solid block.
constexpr size_t kMaxBars = 2500;
constexpr size_t kMaxMarkedBars = 1000;  // failed and slowest, in dense mode
constexpr size_t kMaxDenseLanes = 6;     // their lanes per device, in dense mode
constexpr double kDensityColumn = 2;     // px

int DeviceKey(int gpu) { return gpu < 0 ? INT_MAX : gpu; }

// The top of lane `row` (the timeline's and the waits band's).
double RowY(size_t row) { return kTop + static_cast<double>(row) * (kLaneHeight + kLaneGap); }

// The plot's columns of kDensityColumn px, and the seconds each spans.
struct Columns {
  size_t count = 0;
  double seconds = 0;
};
Columns ColumnsOf(const TimeAxis& axis) {
  auto count = static_cast<size_t>((kWidth - kLeft - kRight) / kDensityColumn);
  return {count, (axis.t1 - axis.t0) / static_cast<double>(count)};
}

// Rows of the timeline: per device (the host's attempts last), as many
// lanes as its attempts needed at once, each attempt in the first lane
// free by its start. `dense` devices get a density row first.
struct LaneLayout {
  std::vector<std::string> labels;     // per row
  std::map<int, int> density_row;      // device key -> its density row (dense mode)
  std::map<size_t, int> row_of;        // attempt index -> its row
};

LaneLayout LayOut(const std::vector<AttemptRecord>& attempts, const std::vector<size_t>& drawn,
                  bool dense, double horizon) {
  std::map<int, std::vector<size_t>> by_device;
  for (size_t i : drawn) by_device[DeviceKey(attempts[i].gpu)].push_back(i);
  if (dense) {
    for (const AttemptRecord& attempt : attempts) by_device[DeviceKey(attempt.gpu)];
  }
  LaneLayout layout;
  for (auto& [device, indices] : by_device) {
    std::string name = DeviceLabel(device == INT_MAX ? -1 : device);
    if (dense) {
      layout.density_row[device] = static_cast<int>(layout.labels.size());
      layout.labels.push_back(name + " · all");
    }
    std::stable_sort(indices.begin(), indices.end(), [&](size_t x, size_t y) {
      return attempts[x].start < attempts[y].start;
    });
    std::vector<double> lane_end;
    int first = static_cast<int>(layout.labels.size());
    for (size_t i : indices) {
      const AttemptRecord& attempt = attempts[i];
      size_t lane = 0;
      while (lane < lane_end.size() && lane_end[lane] > attempt.start) ++lane;
      if (lane == lane_end.size()) {
        if (dense && lane == kMaxDenseLanes) {
          lane = kMaxDenseLanes - 1;  // beyond that, they overlap
        } else {
          lane_end.push_back(0);
          layout.labels.push_back(dense ? name + " · marked" : fmt::format("{} · {}", name, lane + 1));
        }
      }
      lane_end[lane] = std::max(lane_end[lane], std::max(attempt.start, attempt.end.value_or(horizon)));
      layout.row_of[i] = first + static_cast<int>(lane);
    }
  }
  return layout;
}

// A device's attempts as mean concurrency per column of kDensityColumn px,
// drawn as bars whose height is that over its most at once.
std::string Density(const std::vector<AttemptRecord>& attempts, int device, const TimeAxis& axis,
                    double y) {
  auto [columns, per_column] = ColumnsOf(axis);
  std::vector<double> busy(columns + 1, 0);  // seconds of attempts in each column
  std::vector<double> full(columns + 2, 0);  // difference array of whole columns
  for (const AttemptRecord& attempt : attempts) {
    if (DeviceKey(attempt.gpu) != device) continue;
    double start = std::clamp(attempt.start, axis.t0, axis.t1);
    double end = std::clamp(attempt.end.value_or(axis.t1), start, axis.t1);
    auto c0 = static_cast<size_t>((start - axis.t0) / per_column);
    auto c1 = static_cast<size_t>((end - axis.t0) / per_column);
    c0 = std::min(c0, columns - 1);
    c1 = std::min(c1, columns - 1);
    if (c0 == c1) {
      busy[c0] += end - start;
      continue;
    }
    busy[c0] += axis.t0 + static_cast<double>(c0 + 1) * per_column - start;
    busy[c1] += end - (axis.t0 + static_cast<double>(c1) * per_column);
    full[c0 + 1] += 1;
    full[c1] -= 1;
  }
  std::vector<double> mean(columns, 0);
  double whole = 0, most = 0;
  for (size_t c = 0; c < columns; ++c) {
    whole += full[c];
    mean[c] = whole + busy[c] / per_column;
    most = std::max(most, mean[c]);
  }
  std::string out;
  if (most <= 0) return out;
  for (size_t c = 0; c < columns; ++c) {
    if (mean[c] <= 0) continue;
    double height = std::max(1.0, kLaneHeight * mean[c] / most);
    out += fmt::format(R"(<rect class="density" x="{:.0f}" y="{:.1f}" width="{:.0f}" height="{:.1f}" fill="{}"><title>{:.1f} running</title></rect>)",
                       kLeft + static_cast<double>(c) * kDensityColumn, y + kLaneHeight - height,
                       kDensityColumn, height, AttemptColor(AttemptClass::kSucceeded), mean[c]);
  }
  return out;
}

std::string Timeline(const BatchReport& report, const TimeAxis& axis) {
  const std::vector<AttemptRecord>& attempts = report.data.attempts;
  if (attempts.empty()) return "<p class=\"muted\">No attempt recorded yet.</p>\n";
  bool dense = attempts.size() > kMaxBars;
  std::vector<size_t> drawn;
  if (!dense) {
    for (size_t i = 0; i < attempts.size(); ++i) drawn.push_back(i);
  } else {
    // The attempts that did not succeed, then the slowest.
    for (size_t i = 0; i < attempts.size() && drawn.size() < kMaxMarkedBars; ++i) {
      AttemptClass attempt_class = ClassifyAttempt(attempts[i]);
      if (attempt_class != AttemptClass::kSucceeded && attempt_class != AttemptClass::kRunning)
        drawn.push_back(i);
    }
    std::vector<size_t> by_length(attempts.size());
    for (size_t i = 0; i < attempts.size(); ++i) by_length[i] = i;
    auto length = [&](size_t i) { return attempts[i].end.value_or(axis.t1) - attempts[i].start; };
    size_t slowest = std::min(kSlowest, by_length.size());
    std::partial_sort(by_length.begin(), by_length.begin() + static_cast<ptrdiff_t>(slowest),
                      by_length.end(), [&](size_t x, size_t y) { return length(x) > length(y); });
    for (size_t k = 0; k < slowest; ++k) {
      if (std::find(drawn.begin(), drawn.end(), by_length[k]) == drawn.end()) drawn.push_back(by_length[k]);
    }
  }
  LaneLayout layout = LayOut(attempts, drawn, dense, axis.t1);
  std::map<std::string, std::string> names;
  for (const JobTiming& timing : report.jobs) names[timing.job.key] = timing.job.name;

  double bottom = RowY(layout.labels.size());
  std::string out =
      SvgOpen("timeline", bottom + kAxisHeight, "attempts per GPU over time");
  for (size_t row = 0; row < layout.labels.size(); ++row) {
    double y = RowY(row);
    if (row % 2 == 1) {
      out += fmt::format(
          R"(<rect x="{:.0f}" y="{:.1f}" width="{:.0f}" height="{:.0f}" fill="#f6f6f6"/>)", kLeft,
          y - kLaneGap / 2, kWidth - kLeft - kRight, kLaneHeight + kLaneGap);
    }
    out += fmt::format(R"(<text x="{:.0f}" y="{:.1f}" text-anchor="end">{}</text>)", kLeft - 6,
                       y + kLaneHeight - 3, HtmlEscape(layout.labels[row]));
  }
  out += TimeTicks(axis, kTop - 4, bottom);
  for (const auto& [device, row] : layout.density_row) {
    out += Density(attempts, device, axis, RowY(static_cast<size_t>(row)));
  }
  double horizon = axis.t1;
  for (size_t i : drawn) {
    const AttemptRecord& attempt = attempts[i];
    double y = RowY(static_cast<size_t>(layout.row_of.at(i)));
    double end = std::max(attempt.start, attempt.end.value_or(horizon));
    double x = axis.X(attempt.start);
    // A pixel's gap before the next bar: back-to-back jobs stay two bars.
    double span = axis.X(end) - x;
    double width = span > 3 ? span - 1 : std::max(1.0, span);
    AttemptClass attempt_class = ClassifyAttempt(attempt);
    bool retry = attempt.attempt > 1;
    auto name = names.find(attempt.job_key);
    std::string title = fmt::format("{}: attempt {}, {}{}, {}, slot {}",
                                    name != names.end() ? name->second : attempt.job_key,
                                    attempt.attempt, AttemptClassName(attempt_class),
                                    attempt.outcome.empty() ? "" : " (" + attempt.outcome + ")",
                                    FormatDuration(end - attempt.start), attempt.slot);
    out += fmt::format(
        R"(<rect class="attempt {}{}" x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.0f}" fill="{}"{}>)"
        R"(<title>{}</title></rect>)",
        AttemptClassName(attempt_class), retry ? " retry" : "", x, y, width, kLaneHeight,
        AttemptColor(attempt_class),
        retry ? R"( stroke="#111" stroke-width="1.5" stroke-dasharray="3,2")" : "",
        HtmlEscape(title));
    // On Slurm, the start is the submission: the part before it ran is
    // queue wait, drawn pale over the bar.
    auto ran = report.slurm_running_at.find({attempt.job_key, attempt.attempt});
    if (ran != report.slurm_running_at.end() && ran->second > attempt.start) {
      double queued = std::min(ran->second, end) - attempt.start;
      out += fmt::format(
          R"(<rect class="queued" x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.0f}" fill="#fff" )"
          R"(fill-opacity="0.6"><title>{}</title></rect>)",
          x, y, std::max(1.0, axis.X(attempt.start + queued) - x), kLaneHeight,
          HtmlEscape(fmt::format("queued in Slurm for {}", FormatDuration(queued))));
    }
  }
  out += "</svg>\n";
  std::vector<std::pair<std::string, std::string_view>> legend;
  for (AttemptClass attempt_class :
       {AttemptClass::kSucceeded, AttemptClass::kFailed, AttemptClass::kOom,
        AttemptClass::kTimedOut, AttemptClass::kInterrupted, AttemptClass::kRunning}) {
    legend.emplace_back(AttemptClassName(attempt_class), AttemptColor(attempt_class));
  }
  out += Legend(legend);
  out +=
      "<p class=\"muted\">A dashed outline marks a retry (attempt 2 and later); hover an attempt "
      "for its job and slot. Each device has as many lanes as it ran attempts at once.</p>\n";
  if (dense) {
    out += fmt::format(
        "<p class=\"muted\">{} attempts: each device's <em>all</em> row shows how many ran at "
        "once (bar height: that over its most); its <em>marked</em> rows show the attempts that "
        "did not succeed (the first {}) and the {} slowest.</p>\n",
        attempts.size(), kMaxMarkedBars, kSlowest);
  }
  if (!report.slurm_running_at.empty()) {
    out += "<p class=\"muted\">The pale start of a bar is the time the Slurm job waited in "
           "Slurm's queue before it ran.</p>\n";
  }
  return out;
}

// --- waits ------------------------------------------------------------------

std::string_view GateColor(const std::string& gate) {
  static const std::map<std::string, std::string_view, std::less<>> kColors = {
      {"slots", "#c7c7c7"},       {"delay", "#dbdb8d"},    {"retry-delay", "#bcbd22"},
      {"learning", "#17becf"},    {"vram", "#9467bd"},     {"foreign", "#d62728"},
      {"temperature", "#ff7f0e"}, {"limit", "#8c564b"},    {"jobs-per-gpu", "#7f7f7f"},
      {"cooldown", "#aec7e8"},    {"ram", "#2ca02c"},      {"disk", "#e377c2"},
      {"load", "#98df8a"},        {"paused", "#555555"},   {"draining", "#555555"}};
  auto it = kColors.find(gate);
  return it != kColors.end() ? it->second : std::string_view("#999999");
}

// A band under the timeline, a row per gate (and GPU), with a bar for
// each interval in which it held the queue: why jobs were not running.
// Intervals closer than half a pixel are drawn as one, so that a batch of
// 100,000 jobs flickering between "slots" and nothing stays a few bars.
std::string WaitsBand(const BatchReport& report, const TimeAxis& axis) {
  if (report.waits.empty()) return "";
  std::map<std::string, std::vector<const WaitInterval*>> rows;
  for (const WaitInterval& wait : report.waits) rows[WaitLabel(wait.gate)].push_back(&wait);
  double per_pixel = (axis.t1 - axis.t0) / (kWidth - kLeft - kRight);
  double bottom = RowY(rows.size());
  std::string out = SvgOpen("waits", bottom + kAxisHeight, "what held the queue over time");
  out += TimeTicks(axis, kTop - 4, bottom);
  size_t index = 0;
  for (const auto& [label, waits] : rows) {
    double y = RowY(index++);
    out += fmt::format(R"(<text x="{:.0f}" y="{:.1f}" text-anchor="end">{}</text>)", kLeft - 6,
                       y + kLaneHeight - 3, HtmlEscape(label));
    std::string_view color = GateColor(waits.front()->gate.gate);
    auto draw = [&](double start, double end, double held, size_t count) {
      double x = axis.X(start);
      std::string title = count == 1 ? fmt::format("{}: {} from {}", label, FormatDuration(held),
                                                   FormatDuration(start - axis.t0))
                                     : fmt::format("{}: {} in {} waits from {} to {}", label,
                                                   FormatDuration(held), count,
                                                   FormatDuration(start - axis.t0),
                                                   FormatDuration(end - axis.t0));
      out += fmt::format(
          R"(<rect class="wait" x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.0f}" fill="{}">)"
          R"(<title>{}</title></rect>)",
          x, y, std::max(1.0, axis.X(end) - x), kLaneHeight, color, HtmlEscape(title));
    };
    double start = waits.front()->start, end = waits.front()->end, held = 0;
    size_t count = 0;
    for (const WaitInterval* wait : waits) {
      if (count > 0 && wait->start - end > per_pixel / 2) {
        draw(start, end, held, count);
        start = wait->start;
        held = 0;
        count = 0;
      }
      end = std::max(end, wait->end);
      held += wait->end - wait->start;
      ++count;
    }
    draw(start, end, held, count);
  }
  out += "</svg>\n";
  std::string totals;
  for (const auto& [label, total] : report.waited) {
    totals += fmt::format("{}{} {}", totals.empty() ? "" : ", ", label, FormatDuration(total.seconds));
  }
  return out + "<p class=\"muted\">What held the queue, and for how long in all: " +
         HtmlEscape(totals) +
         ". <code>slots</code>: every slot (-j) busy; <code>learning</code>: a command's first "
         "job shows its memory use before more start beside it; <code>vram</code>: the GPU's "
         "memory under --vram-high is taken; <code>foreign</code>: other processes' memory.</p>\n";
}

// --- charts over time -------------------------------------------------------

struct Series {
  std::string label;
  std::string_view color;
  std::vector<std::pair<double, double>> points;  // (unix seconds, value), in time order
  std::string_view dash = "";                      // stroke-dasharray; "" = solid
};

struct ChartSpec {
  std::string_view id;
  std::string_view label;
  double y_max = 1;
  std::string (*y_text)(double value, double y_max) = nullptr;
  bool step = false;  // values hold until the next point (and to the end)
};

// Grid values are quarters of the maximum: 2.5 GiB must not read "2 GiB".
std::string GibText(double gib, double) {
  return fmt::format("{:g} GiB", std::round(gib * 100) / 100);
}
std::string CelsiusText(double celsius, double) { return fmt::format("{:.0f} °C", celsius); }
std::string CountText(double count, double) { return fmt::format("{:.0f}", count); }

// Plot y of `value`, inside [kTop, kTop + kPlotHeight].
double PlotY(double value, double y_max) {
  return kTop + kPlotHeight - std::clamp(value / y_max, 0.0, 1.0) * kPlotHeight;
}

std::string Polyline(const Series& series, const ChartSpec& spec, const TimeAxis& axis) {
  std::string points;
  double previous = 0;
  for (size_t i = 0; i < series.points.size(); ++i) {
    auto [t, value] = series.points[i];
    double x = axis.X(t);
    if (spec.step && i > 0) points += fmt::format("{:.1f},{:.1f} ", x, PlotY(previous, spec.y_max));
    points += fmt::format("{:.1f},{:.1f} ", x, PlotY(value, spec.y_max));
    previous = value;
  }
  if (spec.step && !series.points.empty()) {
    points += fmt::format("{:.1f},{:.1f}", axis.X(axis.t1), PlotY(previous, spec.y_max));
  }
  return fmt::format(
      R"(<polyline class="series" fill="none" stroke="{}" stroke-width="1.6"{} points="{}"/>)",
      series.color,
      series.dash.empty() ? std::string() : fmt::format(R"( stroke-dasharray="{}")", series.dash),
      points);
}

std::string Chart(ChartSpec spec, const TimeAxis& axis, const std::vector<Series>& series,
                  const std::string& extra = "") {
  if (!(spec.y_max > 0)) spec.y_max = 1;
  double bottom = kTop + kPlotHeight;
  std::string out = SvgOpen(spec.id, bottom + kAxisHeight, spec.label);
  out += TimeTicks(axis, kTop, bottom);
  for (int i = 0; i <= 4; ++i) {
    double value = spec.y_max * i / 4;
    double y = PlotY(value, spec.y_max);
    out +=
        fmt::format(R"(<line x1="{:.0f}" y1="{:.1f}" x2="{:.0f}" y2="{:.1f}" stroke="#e6e6e6"/>)",
                    kLeft, y, kWidth - kRight, y);
    out += fmt::format(R"(<text x="{:.0f}" y="{:.1f}" text-anchor="end">{}</text>)", kLeft - 6,
                       y + 4, HtmlEscape(spec.y_text(value, spec.y_max)));
  }
  for (const Series& one : series) out += Polyline(one, spec, axis);
  out += extra;
  out += "</svg>\n";
  std::vector<std::pair<std::string, std::string_view>> legend;
  for (const Series& one : series) legend.emplace_back(one.label, one.color);
  return out + Legend(legend);
}

// A dashed line per GPU at --vram-high x its memory: how close each came to
// the mark the adaptive policy packs under.
std::string HighMarks(const std::map<int, uint64_t>& totals, double high, double y_max) {
  std::string out;
  for (const auto& [gpu, total] : totals) {
    double y = PlotY(high * static_cast<double>(total) / kGiB, y_max);
    out += fmt::format(
        R"(<line class="high-mark" x1="{:.0f}" y1="{:.1f}" x2="{:.0f}" y2="{:.1f}" stroke="{}" )"
        R"(stroke-dasharray="6,4"><title>{}</title></line>)",
        kLeft, y, kWidth - kRight, y, PaletteColor(gpu),
        HtmlEscape(fmt::format("{}: --vram-high {:.0f} % of {}", DeviceLabel(gpu), high * 100,
                               FormatSize(total))));
  }
  return out;
}

// A chart per figure of the samples: VRAM and temperature per GPU, host RAM.
std::string SampleCharts(const BatchReport& report, const TimeAxis& axis) {
  std::map<int, Series> vram;
  std::map<int, Series> temperature;
  Series ram{"host RAM used", PaletteColor(-1), {}};
  std::map<int, uint64_t> totals;  // each GPU's memory
  double vram_max = 0;
  double ram_max = 0;
  double temperature_max = 100;
  for (const SampleRecord& sample : report.data.samples) {
    if (sample.gpu < 0) {
      ram.points.emplace_back(sample.t, static_cast<double>(sample.used) / kGiB);
      ram_max = std::max({ram_max, static_cast<double>(sample.total) / kGiB,
                          static_cast<double>(sample.used) / kGiB});
      continue;
    }
    totals[sample.gpu] = sample.total;  // the latest
    Series& memory = vram[sample.gpu];
    memory.label = DeviceLabel(sample.gpu);
    memory.color = PaletteColor(sample.gpu);
    memory.points.emplace_back(sample.t, static_cast<double>(sample.used) / kGiB);
    vram_max = std::max({vram_max, static_cast<double>(sample.total) / kGiB,
                         static_cast<double>(sample.used) / kGiB});
    if (sample.temperature_c) {
      Series& heat = temperature[sample.gpu];
      heat.label = DeviceLabel(sample.gpu);
      heat.color = PaletteColor(sample.gpu);
      heat.points.emplace_back(sample.t, *sample.temperature_c);
      temperature_max = std::max(temperature_max, static_cast<double>(*sample.temperature_c));
    }
  }
  auto values = [](std::map<int, Series>& by_gpu) {
    std::vector<Series> out;
    for (auto& [gpu, series] : by_gpu) out.push_back(std::move(series));
    return out;
  };
  // 0 when not recorded (a plain double: g++ 12 at -O2 warns that an
  // optional one "may be used uninitialized").
  double high = report.vram_high.value_or(0);
  std::string out = "<h2>GPU memory</h2>\n";
  out += vram.empty()
             ? "<p class=\"muted\">No GPU sample recorded.</p>\n"
             : Chart({"vram", "GPU memory used over time", vram_max, GibText}, axis, values(vram),
                     high > 0 ? HighMarks(totals, high, vram_max) : std::string());
  if (!vram.empty() && high > 0) {
    out += fmt::format("<p class=\"muted\">Dashed: each GPU's --vram-high mark ({:.0f} % of its "
                       "memory), under which the adaptive policy packs jobs.</p>\n",
                       high * 100);
  }
  out += "<h2>GPU temperature</h2>\n";
  // --temp-warm (half the jobs) and --temp-limit (one job), as the batch ran.
  std::vector<std::tuple<std::string_view, double, std::string_view>> thresholds;
  for (auto [name, celsius, color] :
       {std::tuple{"--temp-warm", report.temp_warm, "#e08e0b"},
        std::tuple{"--temp-limit", report.temp_limit, "#d64545"}}) {
    if (!celsius || !(*celsius > 0)) continue;
    thresholds.emplace_back(name, *celsius, color);
    temperature_max = std::max(temperature_max, *celsius + 5);
  }
  std::string marks, said;
  for (const auto& [name, celsius, color] : thresholds) {
    double y = PlotY(celsius, temperature_max);
    marks += fmt::format(
        R"(<line class="temp-mark" x1="{:.0f}" y1="{:.1f}" x2="{:.0f}" y2="{:.1f}" stroke="{}" )"
        R"(stroke-dasharray="6,4"><title>{} {:g} °C</title></line>)",
        kLeft, y, kWidth - kRight, y, color, name, celsius);
    said += fmt::format("{}{} {:g} °C", said.empty() ? "" : ", ", name, celsius);
  }
  out += temperature.empty()
             ? "<p class=\"muted\">No GPU temperature recorded.</p>\n"
             : Chart({"temperature", "GPU temperature over time", temperature_max, CelsiusText},
                     axis, values(temperature), marks);
  if (!temperature.empty() && !said.empty()) {
    out += "<p class=\"muted\">Dashed: " + HtmlEscape(said) +
           "; from the first a GPU takes half its jobs, from the second one.</p>\n";
  }
  out += "<h2>Host RAM</h2>\n";
  out +=
      ram.points.empty()
          ? "<p class=\"muted\">No host sample recorded.</p>\n"
          : Chart({"ram", "host RAM used over time", std::max(ram_max, 1.0), GibText}, axis, {ram});
  return out;
}

// The attempts running on each GPU over time, as the most in each column
// of kDensityColumn px (a step series): what ran against the limit.
std::map<int, Series> RunningSeries(const std::vector<AttemptRecord>& attempts,
                                    const TimeAxis& axis) {
  std::map<int, std::vector<std::pair<double, int>>> edges;  // gpu -> (t, +1/-1)
  for (const AttemptRecord& attempt : attempts) {
    if (attempt.gpu < 0) continue;
    edges[attempt.gpu].emplace_back(attempt.start, 1);
    edges[attempt.gpu].emplace_back(std::max(attempt.start, attempt.end.value_or(axis.t1)), -1);
  }
  auto [columns, per_column] = ColumnsOf(axis);
  std::map<int, Series> out;
  for (auto& [gpu, steps] : edges) {
    std::sort(steps.begin(), steps.end());  // an end before a start at the same time
    Series& series = out[gpu];
    series.label = DeviceLabel(gpu) + " running";
    series.color = PaletteColor(gpu);
    series.dash = "3,2";
    size_t next = 0;
    int now = 0;
    for (size_t c = 0; c < columns; ++c) {
      double column_start = axis.t0 + static_cast<double>(c) * per_column;
      int most = now;
      while (next < steps.size() && steps[next].first < column_start + per_column) {
        now += steps[next++].second;
        most = std::max(most, now);
      }
      if (series.points.empty() || series.points.back().second != most) {
        series.points.emplace_back(column_start, most);
      }
    }
  }
  return out;
}

// Each device's concurrency limit over time ("limit" events, temperature
// caps included), a marker per change with its reason, the jobs that ran
// on it against it, and the changes as a table.
std::string LimitChart(const BatchReport& report, const TimeAxis& axis) {
  std::map<int, Series> by_gpu;
  std::vector<const EventRecord*> changes;
  double y_max = 1;
  for (const EventRecord& event : report.data.events) {
    if (event.kind != "limit") continue;
    Series& series = by_gpu[event.gpu];
    // Device -1 is the batch's slot limit (-j), changed by headroom ctl.
    series.label = event.gpu < 0 ? std::string("slots (-j)") : DeviceLabel(event.gpu);
    series.color = PaletteColor(event.gpu);
    series.points.emplace_back(event.t, static_cast<double>(event.value));
    y_max = std::max(y_max, static_cast<double>(event.value) + 1);
    changes.push_back(&event);
  }
  std::map<int, Series> running = RunningSeries(report.data.attempts, axis);
  for (const auto& [gpu, series] : running) {
    for (const auto& point : series.points) y_max = std::max(y_max, point.second + 1);
  }
  std::string out = "<h2>Concurrency: limit and running jobs</h2>\n";
  if (changes.empty() && running.empty()) {
    return out + "<p class=\"muted\">No job ran on a GPU and the concurrency limit never changed.</p>\n";
  }
  y_max = 4 * std::ceil(y_max / 4);  // the chart's four grid steps fall on whole numbers
  std::string markers;
  for (size_t i = 0; i < changes.size(); ++i) {
    const EventRecord& event = *changes[i];
    double x = axis.X(event.t);
    double y = PlotY(static_cast<double>(event.value), y_max);
    markers += fmt::format(
        R"(<circle class="limit" cx="{:.1f}" cy="{:.1f}" r="3.5" fill="{}"><title>{}</title></circle>)",
        x, y, PaletteColor(event.gpu),
        HtmlEscape(
            fmt::format("{} limit {}: {}", DeviceLabel(event.gpu), event.value, event.text)));
    if (i < kMaxLimitLabels && !event.text.empty()) {
      markers += fmt::format(R"(<text x="{:.1f}" y="{:.1f}">{}</text>)", x + 5,
                             std::max(kTop + 10, y - 5 - static_cast<double>(i % 3) * 12),
                             HtmlEscape(Shorten(event.text, kMaxLabelBytes)));
    }
  }
  std::vector<Series> series;
  for (auto& [gpu, one] : by_gpu) series.push_back(std::move(one));
  for (auto& [gpu, one] : running) series.push_back(std::move(one));
  out += Chart({"limits", "concurrency limit and running jobs over time", y_max, CountText, true},
               axis, series, markers);
  out += "<p class=\"muted\">Solid: each GPU's concurrency limit (its temperature cap "
         "included); dashed: the jobs that ran on it.</p>\n";
  if (changes.empty()) return out + "<p class=\"muted\">The concurrency limit never changed.</p>\n";
  out +=
      "<table class=\"list\"><tr><th class=\"n\">at</th><th>device</th><th class=\"n\">limit</th>"
      "<th>reason</th></tr>\n";
  size_t first = changes.size() > kMaxLimitRows ? changes.size() - kMaxLimitRows : 0;
  for (size_t i = first; i < changes.size(); ++i) {
    const EventRecord& event = *changes[i];
    out += fmt::format(
        "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
        FormatDuration(event.t - axis.t0), DeviceLabel(event.gpu), event.value,
        HtmlEscape(event.text));
  }
  out += "</table>\n";
  if (first > 0)
    out += fmt::format("<p class=\"muted\">(the first {} changes are not listed)</p>\n", first);
  return out;
}

// --- tables -----------------------------------------------------------------

std::string DescribeAttemptEnd(const AttemptRecord& attempt) {
  if (attempt.signal) return "killed by " + SignalName(*attempt.signal);
  if (attempt.exit_code) return fmt::format("exit {}", *attempt.exit_code);
  return attempt.end ? "-" : "running";
}

std::string Summary(const BatchReport& report) {
  const BatchRecord& batch = report.data.batch;
  std::string state(BatchRunStateName(report.state));
  if (report.state == BatchRunState::kFinished)
    state += fmt::format(", exit {}", batch.exit_code.value_or(-1));
  if (report.state == BatchRunState::kStopped)
    state += " (killed?): resume with headroom run --resume";
  std::string out = fmt::format("<h1>headroom batch {}: {}</h1>\n", batch.id, HtmlEscape(state));
  std::string sentence = ReportSentence(report);
  if (!sentence.empty()) out += "<p id=\"why\">" + HtmlEscape(sentence) + "</p>\n";
  out += "<table>\n";
  auto row = [&out](std::string_view name, const std::string& html) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, html);
  };
  row("command", "<code>" + HtmlEscape(batch.command_template) + "</code>");
  if (!batch.input_source.empty())
    row("inputs", "<code>" + HtmlEscape(batch.input_source) + "</code>");
  row("host", HtmlEscape(fmt::format("{} (pid {})", batch.host, batch.pid)));
  row("started", HtmlEscape(LocalTimeText(batch.started_at)));
  row("elapsed", FormatDuration(report.elapsed_seconds));
  std::string jobs = fmt::format("{} in all", report.jobs.size());
  for (JobState state_of_job : {JobState::kSucceeded, JobState::kFailed, JobState::kSkipped,
                                JobState::kInterrupted, JobState::kRunning, JobState::kQueued}) {
    int64_t count = report.counts.at(state_of_job);
    if (count > 0) jobs += fmt::format(", {} {}", count, JobStateName(state_of_job));
  }
  row("jobs", jobs);
  row("attempts", fmt::format("{} ({} retries, {} after running out of memory)", report.attempts,
                              report.retries, report.oom_retries));
  const Throughput& throughput = report.throughput;
  std::string speed = throughput.jobs_per_hour
                          ? fmt::format("{:.1f} jobs/hour over {}", *throughput.jobs_per_hour,
                                        FormatDuration(throughput.active_seconds))
                          : std::string("-");
  if (throughput.eta_seconds) speed += ", ETA " + FormatDuration(*throughput.eta_seconds);
  row("throughput", speed);
  std::string slurm = SlurmSummaryText(report.slurm);
  if (!slurm.empty()) row("slurm", HtmlEscape(slurm));
  row("footprints",
      fmt::format("peak VRAM per job: median {}, p90 {}, max {}; peak RSS per job: "
                  "median {}, p90 {}, max {}",
                  OptSize(report.vram.median), OptSize(report.vram.p90), OptSize(report.vram.max),
                  OptSize(report.rss.median), OptSize(report.rss.p90), OptSize(report.rss.max)));
  return out + "</table>\n";
}

std::string SlowestJobs(const BatchReport& report) {
  std::vector<const JobTiming*> started;
  for (const JobTiming& timing : report.jobs) {
    if (!timing.attempts.empty()) started.push_back(&timing);
  }
  std::stable_sort(started.begin(), started.end(), [](const JobTiming* a, const JobTiming* b) {
    return a->run_seconds > b->run_seconds;
  });
  if (started.size() > kSlowest) started.resize(kSlowest);
  std::string out = "<h2>Slowest jobs</h2>\n";
  if (started.empty()) return out + "<p class=\"muted\">No job has started yet.</p>\n";
  out +=
      "<table class=\"list\" id=\"slowest\"><tr><th class=\"n\">#</th><th>job</th><th>state</th>"
      "<th class=\"n\">attempts</th><th class=\"n\">run</th><th class=\"n\">queue wait</th>"
      "<th class=\"n\">peak VRAM</th><th class=\"n\">peak RSS</th></tr>\n";
  for (const JobTiming* timing : started) {
    out += fmt::format(
        "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
        timing->job.number, HtmlEscape(timing->job.name), JobStateName(timing->job.state),
        timing->attempts.size(), FormatDuration(timing->run_seconds),
        timing->queue_wait ? FormatDuration(*timing->queue_wait) : "-", OptSize(timing->peak_vram),
        OptSize(timing->peak_rss));
  }
  return out + "</table>\n";
}

std::string FailedJobs(const BatchReport& report) {
  std::vector<const JobTiming*> failed;
  for (const JobTiming& timing : report.jobs) {
    if (timing.job.state == JobState::kFailed) failed.push_back(&timing);
  }
  std::string out = fmt::format("<h2>Failed jobs ({})</h2>\n", failed.size());
  if (failed.empty()) return out + "<p class=\"muted\">No job failed.</p>\n";
  out +=
      "<table class=\"list\" id=\"failed\"><tr><th class=\"n\">#</th><th>job</th>"
      "<th class=\"n\">attempts</th><th>last outcome</th><th>end</th><th>stderr log</th></tr>\n";
  for (size_t i = 0; i < failed.size() && i < kMaxFailedRows; ++i) {
    const JobTiming& timing = *failed[i];
    std::string outcome = "-";
    std::string end = "-";
    std::string log;
    if (!timing.attempts.empty()) {
      const AttemptRecord& last = timing.attempts.back();
      outcome = std::string(AttemptClassName(ClassifyAttempt(last)));
      end = DescribeAttemptEnd(last);
      log = last.stderr_log;
    }
    // Its last stderr lines under the log's name: why it failed, at a glance.
    std::string tail = timing.stderr_tail.empty()
                           ? std::string()
                           : "<pre class=\"tail\">" + HtmlEscape(timing.stderr_tail) + "</pre>";
    out += fmt::format(
        "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td>"
        "<td>{}</td><td><code>{}</code>{}</td></tr>\n",
        timing.job.number, HtmlEscape(timing.job.name), timing.attempts.size(), outcome,
        HtmlEscape(end), HtmlEscape(log), tail);
  }
  out += "</table>\n";
  if (failed.size() > kMaxFailedRows) {
    out += fmt::format("<p class=\"muted\">... and {} more (see the JSON report)</p>\n",
                       failed.size() - kMaxFailedRows);
  }
  return out;
}

std::string GpuTable(const BatchReport& report) {
  if (report.gpus.empty()) return "";
  std::string out =
      "<h2>GPUs</h2>\n<table class=\"list\" id=\"gpus\"><tr><th>device</th><th "
      "class=\"n\">attempts</th>"
      "<th class=\"n\">busy</th><th class=\"n\">mean utilization</th><th class=\"n\">peak "
      "memory</th>"
      "<th class=\"n\">peak temperature</th><th class=\"n\">peak job VRAM</th><th "
      "class=\"n\">limit</th></tr>\n";
  for (const GpuUsage& gpu : report.gpus) {
    std::string busy = report.elapsed_seconds > 0
                           ? fmt::format("{:.0f}%", 100 * gpu.busy_seconds / report.elapsed_seconds)
                           : "-";
    std::string memory = OptSize(gpu.peak_used);
    if (gpu.total) memory += " / " + FormatSize(*gpu.total);
    out += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td></tr>\n",
        DeviceLabel(gpu.index), gpu.attempts, busy,
        gpu.mean_utilization_pct ? fmt::format("{:.0f}%", *gpu.mean_utilization_pct) : "-", memory,
        gpu.peak_temperature_c ? fmt::format("{} °C", *gpu.peak_temperature_c) : "-",
        OptSize(gpu.peak_job_vram), gpu.limit ? fmt::format("{}", *gpu.limit) : "-");
  }
  return out + "</table>\n";
}

}  // namespace

std::string_view AttemptColor(AttemptClass attempt_class) {
  switch (attempt_class) {
    case AttemptClass::kRunning:
      return "#3b82f6";
    case AttemptClass::kSucceeded:
      return "#2e9e5b";
    case AttemptClass::kFailed:
      return "#d64545";
    case AttemptClass::kOom:
      return "#8e44ad";
    case AttemptClass::kTimedOut:
      return "#e08e0b";
    case AttemptClass::kInterrupted:
      return "#9aa0a6";
  }
  return "#000000";
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8Length(text, i);
    if (length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    char c = text[i++];
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
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
          out += kReplacement;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string RenderHtmlReport(const BatchReport& report) {
  TimeAxis axis;
  axis.t0 = report.data.batch.started_at;
  axis.t1 = axis.t0 + std::max(report.elapsed_seconds, 1.0);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<title>headroom batch {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                     report.data.batch.id, kStyle);
  out += Summary(report);
  out += "<h2>Timeline</h2>\n";
  out += Timeline(report, axis);
  out += WaitsBand(report, axis);
  out += SampleCharts(report, axis);
  out += LimitChart(report, axis);
  out += SlowestJobs(report);
  out += FailedJobs(report);
  out += GpuTable(report);
  out += fmt::format("<p class=\"muted\">Generated by headroom at {}.</p>\n</body>\n</html>\n",
                     HtmlEscape(LocalTimeText(report.now)));
  return out;
}

}  // namespace headroom
