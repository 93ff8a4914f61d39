#include "sched/footprint_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace headroom {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;

// What the model predicts for a largest `peak` seen among `n` peaks: the
// default margin, shrinking as the peak is confirmed.
uint64_t WithMargin(double peak, int n = 1) {
  return static_cast<uint64_t>(
      std::ceil(peak * (1.0 + (FootprintModel::kDefaultMargin - 1.0) / n)));
}

TEST(FootprintModelTest, KnowsNothingOfANewClass) {
  FootprintModel model;
  Footprint f = model.Predict("upscale {}", 0);
  EXPECT_FALSE(f.vram);
  EXPECT_FALSE(f.rss);
}

TEST(FootprintModelTest, ConstantPeaksPredictThePeakTimesTheMargin) {
  FootprintModel model;
  for (uint64_t input : {1 * kMiB, 5 * kMiB, 9 * kMiB}) {
    model.Observe("enc {}", input, 10 * kGiB, 2 * kGiB);
  }
  for (uint64_t input : {uint64_t{0}, 5 * kMiB, 100 * kMiB}) {
    Footprint f = model.Predict("enc {}", input);
    ASSERT_TRUE(f.vram);
    ASSERT_TRUE(f.rss);
    EXPECT_EQ(*f.vram, WithMargin(10.0 * kGiB, 3));
    EXPECT_EQ(*f.rss, WithMargin(2.0 * kGiB, 3));
  }
}

TEST(FootprintModelTest, OneMeasurementIsEnough) {
  FootprintModel model;
  model.Observe("c", 0, 4 * kGiB, std::nullopt);
  Footprint f = model.Predict("c", 0);
  EXPECT_EQ(f.vram, WithMargin(4.0 * kGiB));
  EXPECT_FALSE(f.rss);  // not measured: still unknown
}

TEST(FootprintModelTest, WithoutASizeSignalTheLargestPeakWins) {
  struct Case {
    const char* what;
    std::vector<std::pair<uint64_t, uint64_t>> input_and_peak_gib;
  };
  std::vector<Case> cases = {
      {"same input", {{0, 4}, {0, 30}, {0, 12}}},
      {"two input sizes only", {{1, 4}, {2, 30}, {2, 12}}},
      {"peaks shrink with size", {{1, 30}, {2, 20}, {3, 10}}},
      {"noise, no correlation", {{1, 12}, {2, 30}, {3, 4}, {4, 20}}},
  };
  for (const Case& c : cases) {
    FootprintModel model;
    for (auto [input, peak] : c.input_and_peak_gib)
      model.Observe("c", input * kGiB, peak * kGiB, 0);
    EXPECT_EQ(model.Predict("c", 1 * kGiB).vram,
              WithMargin(30.0 * kGiB, static_cast<int>(c.input_and_peak_gib.size())))
        << c.what;
  }
}

TEST(FootprintModelTest, PeaksGrowingWithInputFollowTheLine) {
  // peak = 1 GiB + 2 × input.
  FootprintModel model;
  for (uint64_t input_gib : {1, 2, 3, 4}) {
    model.Observe("c", input_gib * kGiB, (1 + 2 * input_gib) * kGiB, std::nullopt);
  }
  struct Case {
    uint64_t input_gib;
    double want_gib;
  };
  std::vector<Case> cases = {
      {1, 3},                    // far below the largest peak (9): small jobs pack tightly
      {2, 5}, {4, 9}, {10, 21},  // larger than any seen: extrapolated
      {0, 3},                    // the line says 1, but never below the smallest peak
  };
  for (const Case& c : cases) {
    std::optional<uint64_t> vram = model.Predict("c", c.input_gib * kGiB).vram;
    ASSERT_TRUE(vram);
    // On a fitted line at most a third of the margin is kept, less as
    // more peaks confirm it: 0.15 / 4 here.
    EXPECT_NEAR(static_cast<double>(*vram), c.want_gib * kGiB * 1.0375, 4096)
        << "input " << c.input_gib << " GiB";
  }
}

TEST(FootprintModelTest, NoisyGrowingPeaksAreCoveredAtEverySample) {
  // peak ≈ 2 × input with ±10 % noise.
  std::vector<std::pair<double, double>> samples = {{1, 2.2}, {2, 3.7},  {3, 6.4},
                                                    {4, 7.5}, {5, 10.9}, {6, 11.3}};
  FootprintModel model;
  for (auto [input, peak] : samples) {
    model.Observe("c", static_cast<uint64_t>(input * kGiB), static_cast<uint64_t>(peak * kGiB),
                  std::nullopt);
  }
  for (auto [input, peak] : samples) {
    uint64_t vram = *model.Predict("c", static_cast<uint64_t>(input * kGiB)).vram;
    // The raise covers every sample; the reduced margin (0.15 / 6) comes on top.
    EXPECT_GE(static_cast<double>(vram), peak * kGiB * 1.025) << "input " << input;
  }
  // Still tighter than the largest peak for the small jobs.
  EXPECT_LT(*model.Predict("c", kGiB).vram, WithMargin(11.3 * kGiB) / 2);
}

// A class whose peaks vary widely and say nothing of size (12 to 30 GiB,
// inputs not files): once enough are seen, a job is predicted at the
// class's typical peak, unpadded, so that as many pack as typically fit;
// a job that ran out of memory before is predicted cautiously: the
// largest peak, with a margin that shrinks as it is confirmed, so that two
// jobs measured at 30 GiB still fit under 68 GiB side by side.
TEST(FootprintModelTest, AWidelyVaryingClassIsPredictedByItsSpread) {
  FootprintModel model;
  std::vector<double> peaks = {12, 30, 18, 25, 14, 28, 21, 16, 30, 23, 19, 26};
  double largest = 0;
  for (size_t i = 0; i < peaks.size(); ++i) {
    model.Observe("c", 0, static_cast<uint64_t>(peaks[i] * kGiB), std::nullopt);
    largest = std::max(largest, peaks[i]);
    uint64_t cautious = *model.Predict("c", 0, /*cautious=*/true).vram;
    EXPECT_EQ(cautious, WithMargin(largest * kGiB, static_cast<int>(i + 1))) << i;
    if (i + 1 < FootprintModel::kMinSpreadSamples) {
      EXPECT_EQ(*model.Predict("c", 0).vram, cautious) << "too few peaks for a spread: " << i;
    }
  }
  double mean = 0, variance = 0;
  for (double p : peaks) mean += p / 12;
  for (double p : peaks) variance += (p - mean) * (p - mean) / 12;
  double typical = mean + FootprintModel::kSpreadWeight * std::sqrt(variance);
  EXPECT_NEAR(static_cast<double>(*model.Predict("c", 0).vram), typical * kGiB, 1);
  EXPECT_LT(3 * typical, 68) << "three typical jobs fit under 0.85 x 80 GiB";
  EXPECT_LE(2 * *model.Predict("c", 0, true).vram, 68 * kGiB);
}

TEST(FootprintModelTest, ASteadyClassIsPredictedAtItsPeak) {
  FootprintModel model;
  for (int i = 0; i < 10; ++i) model.Observe("c", 0, 8 * kGiB, std::nullopt);
  EXPECT_EQ(model.Predict("c", 0).vram, 8 * kGiB);
}

TEST(FootprintModelTest, AnOomRaisesThePredictionToWhatWasInUse) {
  FootprintModel model;
  model.Observe("c", 0, 10 * kGiB, 1 * kGiB);
  model.OnOom("c", 0, Memory::kVram, 20 * kGiB);
  Footprint f = model.Predict("c", 0);
  EXPECT_EQ(f.vram, WithMargin(20.0 * kGiB, 2));
  EXPECT_EQ(f.rss, WithMargin(1.0 * kGiB));  // only the memory that ran out
  model.OnOom("c", 0, Memory::kRss, 3 * kGiB);
  EXPECT_EQ(model.Predict("c", 0).rss, WithMargin(3.0 * kGiB, 2));
  // An OOM below the current estimate lowers nothing.
  model.OnOom("c", 0, Memory::kVram, 5 * kGiB);
  EXPECT_EQ(model.Predict("c", 0).vram, WithMargin(20.0 * kGiB, 3));
}

TEST(FootprintModelTest, AnOomBeforeAnySuccessGivesAFirstEstimate) {
  FootprintModel model;
  model.OnOom("c", 0, Memory::kVram, 6 * kGiB);
  Footprint f = model.Predict("c", 0);
  EXPECT_EQ(f.vram, WithMargin(6.0 * kGiB));
  EXPECT_FALSE(f.rss);
}

TEST(FootprintModelTest, AnOomRaisesTheLineAtItsInput) {
  FootprintModel model;
  for (uint64_t input_gib : {1, 2, 3, 4}) {
    model.Observe("c", input_gib * kGiB, 2 * input_gib * kGiB, std::nullopt);
  }
  ASSERT_LT(*model.Predict("c", 2 * kGiB).vram, WithMargin(5.0 * kGiB));
  model.OnOom("c", 2 * kGiB, Memory::kVram, 7 * kGiB);
  EXPECT_GE(*model.Predict("c", 2 * kGiB).vram, WithMargin(7.0 * kGiB, 5));
}

TEST(FootprintModelTest, OldPeaksLeaveTheWindow) {
  FootprintModel model(1.15, 3);
  model.Observe("c", 0, 30 * kGiB, std::nullopt);
  for (int i = 0; i < 2; ++i) model.Observe("c", 0, 10 * kGiB, std::nullopt);
  EXPECT_EQ(model.Predict("c", 0).vram, WithMargin(30.0 * kGiB, 3));
  model.Observe("c", 0, 10 * kGiB, std::nullopt);
  EXPECT_EQ(model.Predict("c", 0).vram, WithMargin(10.0 * kGiB, 3));
}

TEST(FootprintModelTest, ClassesAreLearnedApartAndTheMarginIsAParameter) {
  FootprintModel model(1.5);
  model.Observe("a", 0, 10 * kGiB, std::nullopt);
  model.Observe("b", 0, 2 * kGiB, std::nullopt);
  EXPECT_EQ(model.Predict("a", 0).vram, 15 * kGiB);
  EXPECT_EQ(model.Predict("b", 0).vram, 3 * kGiB);
  EXPECT_FALSE(model.Predict("c", 0).vram);
}

}  // namespace
}  // namespace headroom

namespace headroom {
namespace {

TEST(FootprintModelScaled, ScalesAboveTheLargestInputWithoutAFit) {
  FootprintModel model(1.0);
  model.Observe("c", 100, 1000, 50);
  EXPECT_EQ(model.Predict("c", 400).vram, 1000u);        // the largest peak
  EXPECT_EQ(model.PredictScaled("c", 400).vram, 4000u);  // per byte of the widest sample
  EXPECT_EQ(model.PredictScaled("c", 400).rss, 200u);
  EXPECT_EQ(model.PredictScaled("c", 50).vram, 1000u);   // below it: the largest peak
  EXPECT_EQ(model.PredictScaled("x", 50).vram, std::nullopt);
}

TEST(FootprintModelScaled, UsesTheFitOnceThereIsOne) {
  FootprintModel model(1.0);
  // base 1000 + 10 per byte
  model.Observe("c", 100, 2000, std::nullopt);
  model.Observe("c", 200, 3000, std::nullopt);
  model.Observe("c", 300, 4000, std::nullopt);
  EXPECT_EQ(model.PredictScaled("c", 1000).vram, model.Predict("c", 1000).vram);
  EXPECT_EQ(model.PredictScaled("c", 1000).vram, 11000u);
}

}  // namespace
}  // namespace headroom
