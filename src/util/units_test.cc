#include "util/units.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace headroom {
namespace {

uint64_t SizeOf(const std::string& text) {
  uint64_t bytes = 0;
  Status status = ParseSize(text, &bytes);
  EXPECT_TRUE(status.ok()) << text << ": " << status.message();
  return bytes;
}

int64_t MillisOf(const std::string& text) {
  Millis millis{-1};
  Status status = ParseDuration(text, &millis);
  EXPECT_TRUE(status.ok()) << text << ": " << status.message();
  return millis.count();
}

TEST(ParseSizeTest, PlainNumberIsBytes) {
  EXPECT_EQ(SizeOf("0"), 0u);
  EXPECT_EQ(SizeOf("1024"), 1024u);
  EXPECT_EQ(SizeOf("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSizeTest, UnitsAreBinaryWithOptionalIAndB) {
  EXPECT_EQ(SizeOf("512K"), 512u << 10);
  EXPECT_EQ(SizeOf("512M"), 512u << 20);
  EXPECT_EQ(SizeOf("6G"), 6ull << 30);
  EXPECT_EQ(SizeOf("2t"), 2ull << 40);
  EXPECT_EQ(SizeOf("100MB"), 100ull << 20);
  EXPECT_EQ(SizeOf("1.5GiB"), 3ull << 29);
  EXPECT_EQ(SizeOf("4Ki"), 4096u);
  EXPECT_EQ(SizeOf("7b"), 7u);
  EXPECT_EQ(SizeOf("0.5k"), 512u);
  EXPECT_EQ(SizeOf(".5K"), 512u);
}

TEST(ParseSizeTest, ReadsBackWhatFormatSizeWrites) {
  EXPECT_EQ(SizeOf(FormatSize(3ull << 29)), 3ull << 29);
  EXPECT_EQ(SizeOf("812 B"), 812u);
}

TEST(ParseSizeTest, RejectsNegativeEmptyGarbageAndOverflow) {
  for (const char* bad : {"", "-1", "-5M", "+5M", "M", "6X", "5MBB", "1.2.3", "1e3", "inf", "nan",
                          " 5", "5 ", "5  M", "1,5G", "0x10"}) {
    uint64_t bytes = 99;
    Status status = ParseSize(bad, &bytes);
    EXPECT_FALSE(status.ok()) << "'" << bad << "' was accepted as " << bytes;
    EXPECT_EQ(bytes, 99u) << bad;
  }
  uint64_t bytes = 0;
  EXPECT_EQ(ParseSize("6X", &bytes).message(),
            "'6X' is not a size (expected e.g. 512M, 6G, 1.5GiB)");
  EXPECT_EQ(ParseSize("16384P", &bytes).message(), "'16384P' is too large a size");
  EXPECT_FALSE(ParseSize("18446744073709551616", &bytes).ok());
  EXPECT_FALSE(ParseSize(std::string(5000, '9'), &bytes).ok());
}

TEST(ParseDurationTest, BareNumberIsSeconds) {
  EXPECT_EQ(MillisOf("90"), 90000);
  EXPECT_EQ(MillisOf("1.5"), 1500);
  EXPECT_EQ(MillisOf("0"), 0);
}

TEST(ParseDurationTest, UnitsAndCompounds) {
  EXPECT_EQ(MillisOf("90s"), 90000);
  EXPECT_EQ(MillisOf("2m"), 120000);
  EXPECT_EQ(MillisOf("1h30m"), 5400000);
  EXPECT_EQ(MillisOf("1h30m15s"), 5415000);
  EXPECT_EQ(MillisOf("500ms"), 500);
  EXPECT_EQ(MillisOf("1.5s"), 1500);
  EXPECT_EQ(MillisOf("1d"), 86400000);
  EXPECT_EQ(MillisOf("2M"), 120000);
  EXPECT_EQ(MillisOf("0.0005s"), 1);  // rounded to the nearest millisecond
}

TEST(ParseDurationTest, RejectsNegativeEmptyGarbageAndOverflow) {
  for (const char* bad : {"", "-1", "-5s", "+5s", "s", "5x", "1h30", "5 s", "5s ", "1.2.3s", "1e3",
                          "inf", "nan", "5sec", "1hh", "ms", "."}) {
    Millis millis{-7};
    Status status = ParseDuration(bad, &millis);
    EXPECT_FALSE(status.ok()) << "'" << bad << "' was accepted as " << millis.count();
    EXPECT_EQ(millis.count(), -7) << bad;
  }
  Millis millis;
  EXPECT_EQ(ParseDuration("5x", &millis).message(),
            "'5x' is not a duration (expected e.g. 90s, 2m, 1h30m)");
  EXPECT_EQ(ParseDuration("999999999999999999d", &millis).message(),
            "'999999999999999999d' is too long a duration");
}

TEST(FormatSizeTest, PicksTheLargestUnitWithOneDecimal) {
  EXPECT_EQ(FormatSize(0), "0 B");
  EXPECT_EQ(FormatSize(812), "812 B");
  EXPECT_EQ(FormatSize(1023), "1023 B");
  EXPECT_EQ(FormatSize(1024), "1.0 KiB");
  EXPECT_EQ(FormatSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatSize(6ull << 30), "6.0 GiB");
  EXPECT_EQ(FormatSize((1ull << 20) - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(FormatSize(UINT64_MAX), "16.0 EiB");
}

TEST(FormatDurationTest, SecondsMinutesHoursDays) {
  EXPECT_EQ(FormatDuration(0), "0.0s");
  EXPECT_EQ(FormatDuration(-3), "0.0s");
  EXPECT_EQ(FormatDuration(0.4), "0.4s");
  EXPECT_EQ(FormatDuration(12.34), "12.3s");
  EXPECT_EQ(FormatDuration(59.96), "1m00s");
  EXPECT_EQ(FormatDuration(125), "2m05s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(3599.7), "1h00m");
  EXPECT_EQ(FormatDuration(90000), "1d01h");
}

}  // namespace
// Minute-long jobs read in jobs a minute or an hour, not "0.0/s".
TEST(FormatRateTest, SlowRatesUseALargerUnit) {
  EXPECT_EQ(FormatRate(3.24), "3.2/s");
  EXPECT_EQ(FormatRate(0.5), "30.0/min");
  EXPECT_EQ(FormatRate(1.0 / 600), "6.0/h");
  EXPECT_EQ(FormatRate(0.5, "jobs"), "30.0 jobs/min");
}

}  // namespace headroom
