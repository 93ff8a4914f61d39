#include "sched/footprint_model.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace headroom {
namespace {

// y = intercept + slope × x by least squares, and how well it fits.
struct Line {
  double intercept = 0;
  double slope = 0;
  double correlation = 0;  // Pearson's r; 0 when x or y does not vary
  double At(double x) const { return intercept + slope * x; }
};

template <typename Samples>
Line FitLine(const Samples& samples) {
  double n = static_cast<double>(samples.size());
  double mean_x = 0, mean_y = 0;
  for (const auto& s : samples) {
    mean_x += s.input / n;
    mean_y += s.peak / n;
  }
  double sxx = 0, syy = 0, sxy = 0;
  for (const auto& s : samples) {
    sxx += (s.input - mean_x) * (s.input - mean_x);
    syy += (s.peak - mean_y) * (s.peak - mean_y);
    sxy += (s.input - mean_x) * (s.peak - mean_y);
  }
  Line line;
  if (sxx <= 0) return line;
  line.slope = sxy / sxx;
  line.intercept = mean_y - line.slope * mean_x;
  if (syy > 0) line.correlation = sxy / std::sqrt(sxx * syy);
  return line;
}

template <typename Samples>
size_t DistinctInputs(const Samples& samples) {
  std::set<double> inputs;
  for (const auto& s : samples) inputs.insert(s.input);
  return inputs.size();
}

constexpr double kMinFitCorrelation = 0.9;

}  // namespace

FootprintModel::FootprintModel(double margin, size_t window)
    : margin_(margin), window_(std::max<size_t>(1, window)) {}

void FootprintModel::Observe(const std::string& job_class, uint64_t input_bytes,
                             std::optional<uint64_t> peak_vram, std::optional<uint64_t> peak_rss) {
  ClassHistory& history = classes_[job_class];
  if (peak_vram) Add(&history.vram, input_bytes, *peak_vram);
  if (peak_rss) Add(&history.rss, input_bytes, *peak_rss);
}

// The failed job needed more than it had; recording what it had as a peak is
// enough: both the largest-peak and the raised-line estimates cover every
// sample, so the prediction for this input becomes at least used × margin.
void FootprintModel::OnOom(const std::string& job_class, uint64_t input_bytes, Memory which,
                           uint64_t used_at_failure) {
  ClassHistory& history = classes_[job_class];
  Add(which == Memory::kVram ? &history.vram : &history.rss, input_bytes, used_at_failure);
}

Footprint FootprintModel::Predict(const std::string& job_class, uint64_t input_bytes,
                                  bool cautious) const {
  auto it = classes_.find(job_class);
  if (it == classes_.end()) return {};
  return {Estimate(it->second.vram, input_bytes, false, cautious),
          Estimate(it->second.rss, input_bytes, false, cautious)};
}

Footprint FootprintModel::PredictScaled(const std::string& job_class,
                                        uint64_t input_bytes) const {
  auto it = classes_.find(job_class);
  if (it == classes_.end()) return {};
  return {Estimate(it->second.vram, input_bytes, true), Estimate(it->second.rss, input_bytes, true)};
}

size_t FootprintModel::VramSamples(const std::string& job_class) const {
  auto it = classes_.find(job_class);
  return it == classes_.end() ? 0 : it->second.vram.size();
}

void FootprintModel::Add(Samples* samples, uint64_t input_bytes, uint64_t peak) const {
  samples->push_back({static_cast<double>(input_bytes), static_cast<double>(peak)});
  while (samples->size() > window_) samples->pop_front();
}

std::optional<uint64_t> FootprintModel::Estimate(const Samples& samples, uint64_t input_bytes,
                                                 bool scaled, bool cautious) const {
  if (samples.empty()) return std::nullopt;
  auto by_peak = [](const Sample& a, const Sample& b) { return a.peak < b.peak; };
  double largest = std::max_element(samples.begin(), samples.end(), by_peak)->peak;
  double smallest = std::min_element(samples.begin(), samples.end(), by_peak)->peak;
  double estimate = largest;
  // Margins are for what has not been seen: a largest peak seen n times
  // over n jobs needs less of one than a single measurement.
  double n = static_cast<double>(samples.size());
  double margin = 1.0 + (margin_ - 1.0) / n;

  Line line = FitLine(samples);
  if (DistinctInputs(samples) >= kMinFitInputs && line.slope > 0 &&
      line.correlation >= kMinFitCorrelation) {
    // Raise the line by the largest amount a sample sits above it, so that
    // the noise seen so far is covered, not just the average.
    double raise = 0;
    for (const Sample& s : samples) raise = std::max(raise, s.peak - line.At(s.input));
    estimate = std::max(smallest, line.At(static_cast<double>(input_bytes)) + raise);
    // The raise already covers the spread measured around the line, so only
    // a third of the margin is kept, and less as more peaks confirm the
    // line: a full one would leave room unused that tight packing needs
    // (bench/packing.sh). OOMs still bump it.
    margin = 1.0 + (margin_ - 1.0) / std::max(3.0, n);
  } else if (!scaled && !cautious && samples.size() >= kMinSpreadSamples) {
    double mean = 0;
    for (const Sample& s : samples) mean += s.peak / n;
    double variance = 0;
    for (const Sample& s : samples) variance += (s.peak - mean) * (s.peak - mean) / n;
    estimate = std::min(largest, mean + kSpreadWeight * std::sqrt(variance));
    margin = 1.0;
  } else if (scaled) {
    auto by_input = [](const Sample& a, const Sample& b) {
      return a.input < b.input || (a.input == b.input && a.peak < b.peak);
    };
    const Sample& widest = *std::max_element(samples.begin(), samples.end(), by_input);
    double x = static_cast<double>(input_bytes);
    if (widest.input > 0 && x > widest.input) {
      estimate = std::max(estimate, widest.peak * x / widest.input);
    }
  }
  return static_cast<uint64_t>(std::ceil(estimate * margin));
}

}  // namespace headroom
