// FootprintModel: what a job of a given class (its command template) will
// need at its peak, VRAM and RAM, learned from the jobs of that class that
// already ran, so that admission reserves what jobs really use instead of a
// guess. Declared sizes (jobs-file gpu_mem, --gpu-mem) win over it; the
// caller applies them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace headroom {

// A prediction; a field is unknown until a job of the class has measured it
// (or run out of it): then the class is in slow start for that resource.
struct Footprint {
  std::optional<uint64_t> vram;
  std::optional<uint64_t> rss;
};

enum class Memory { kVram, kRss };

class FootprintModel {
 public:
  static constexpr double kDefaultMargin = 1.15;
  static constexpr size_t kDefaultWindow = 32;

  // Predictions are the estimate × `margin`, over the last `window` jobs of
  // each class (older ones are forgotten, so a class whose jobs shrink packs
  // tighter again).
  explicit FootprintModel(double margin = kDefaultMargin, size_t window = kDefaultWindow);

  // A job of `job_class` with inputs of `input_bytes` in total succeeded
  // with these peaks; an unmeasured peak is nullopt.
  void Observe(const std::string& job_class, uint64_t input_bytes,
               std::optional<uint64_t> peak_vram, std::optional<uint64_t> peak_rss);

  // A job ran out of `which` with `used_at_failure` in use: from now on the
  // class's prediction for that input is at least used_at_failure × margin.
  void OnOom(const std::string& job_class, uint64_t input_bytes, Memory which,
             uint64_t used_at_failure);

  // The predicted peaks of a job of `job_class` with `input_bytes` of input.
  // When the window holds at least 3 distinct input sizes whose peaks grow
  // with size (correlation >= 0.9), the least-squares line through them
  // raised until no measured peak lies above it, and never below the
  // smallest peak, times a third of the margin: the line lets a class whose
  // jobs differ widely in size pack tightly. Else, size says nothing:
  //  - with fewer than kMinSpreadSamples peaks, or `cautious` (the job ran
  //    out of memory before), the largest peak times a margin that shrinks
  //    as it is confirmed: 1 + (margin - 1) / n for n peaks, since margins
  //    are for what has not been seen;
  //  - else the class's typical peak, mean + kSpreadWeight x standard
  //    deviation (at most the largest), unpadded: jobs of a
  //    class whose peaks vary widely pack as many as typically fit, and the
  //    few that meet bigger neighbours are what the out-of-memory retry
  //    (which predicts cautiously) is for.
  Footprint Predict(const std::string& job_class, uint64_t input_bytes,
                    bool cautious = false) const;

  // For sizing batches (--batch-size auto): as Predict, except that without
  // a size fit, an input larger than every one seen is scaled from the
  // sample of the largest input (its peak per byte, base included), so
  // that a bigger batch is never predicted to need what a smaller one did.
  // Conservative: a batch's base memory is counted once per multiple.
  Footprint PredictScaled(const std::string& job_class, uint64_t input_bytes) const;

  // How many VRAM peaks of `job_class` the window holds.
  size_t VramSamples(const std::string& job_class) const;

  // Fewer distinct input sizes than this and the estimate is the largest
  // peak, not a fit.
  static constexpr size_t kMinFitInputs = 3;
  // Peaks needed before a class without a size fit is predicted by its
  // spread rather than its largest peak, and the weight of that spread.
  static constexpr size_t kMinSpreadSamples = 8;
  static constexpr double kSpreadWeight = 0.1;

 private:
  struct Sample {
    double input;  // bytes
    double peak;   // bytes
  };
  using Samples = std::deque<Sample>;
  struct ClassHistory {
    Samples vram;
    Samples rss;
  };

  void Add(Samples* samples, uint64_t input_bytes, uint64_t peak) const;
  std::optional<uint64_t> Estimate(const Samples& samples, uint64_t input_bytes,
                                   bool scaled = false, bool cautious = false) const;

  double margin_;
  size_t window_;
  std::map<std::string, ClassHistory> classes_;
};

}  // namespace headroom
