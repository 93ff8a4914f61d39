#include "exec/worker_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace headroom {
namespace {

TEST(WorkerProtocolTest, EncodesARequestAsOneLine) {
  WorkerRequest request;
  request.id = 7;
  request.inputs = {"a.mp4", "b.mp4"};
  request.outputs = {"out/.a.headroom-123-7.mp4", ""};
  request.gpu = "0";
  EXPECT_EQ(EncodeRequest(request),
            "{\"id\": 7, \"inputs\": [\"a.mp4\", \"b.mp4\"], "
            "\"outputs\": [\"out/.a.headroom-123-7.mp4\", null], \"gpu\": 0}\n");
}

TEST(WorkerProtocolTest, GpuIsANumberNullOrAString) {
  WorkerRequest request;
  request.inputs = {"x"};
  request.outputs = {"y"};
  auto gpu_of = [&](std::optional<std::string> gpu) {
    request.gpu = std::move(gpu);
    std::string line = EncodeRequest(request);
    size_t at = line.find("\"gpu\": ");
    return line.substr(at + 7, line.size() - at - 9);
  };
  EXPECT_EQ(gpu_of("3"), "3");
  EXPECT_EQ(gpu_of(std::nullopt), "null");
  EXPECT_EQ(gpu_of(""), "null");  // --gpus none, CPU fallback
  EXPECT_EQ(gpu_of("0,1"), "\"0,1\"");
}

TEST(WorkerProtocolTest, StringsAreEscapedAndInvalidUtf8IsSurrogateEscaped) {
  WorkerRequest request;
  request.inputs = {"q\"b\\s\nt\x01 \xc3\xa9 \xff\xfe \xe2\x82"};
  request.outputs = {"o"};
  std::string line = EncodeRequest(request);
  EXPECT_NE(line.find("[\"q\\\"b\\\\s\\u000at\\u0001 \xc3\xa9 \\udcff\\udcfe \\udce2\\udc82\"]"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line whatever the names hold
}

TEST(WorkerProtocolTest, ParsesReplies) {
  WorkerReply reply;
  ASSERT_TRUE(ParseReply("{\"id\": 7, \"ok\": true}", &reply));
  EXPECT_EQ(reply.id, 7);
  EXPECT_TRUE(reply.ok);
  EXPECT_FALSE(reply.oom);

  ASSERT_TRUE(ParseReply(
      "  {\"ok\": false, \"id\": 8, \"error\": \"CUDA out of memory\", \"oom\": true}\r", &reply));
  EXPECT_EQ(reply.id, 8);
  EXPECT_FALSE(reply.ok);
  EXPECT_TRUE(reply.oom);
  EXPECT_EQ(reply.error, "CUDA out of memory");
  EXPECT_TRUE(reply.results.empty());
}

TEST(WorkerProtocolTest, ParsesPerInputResultsAndDropsBadEntries) {
  WorkerReply reply;
  ASSERT_TRUE(
      ParseReply("{\"id\": 1, \"ok\": false, \"results\": ["
                 "{\"input\": \"a\", \"ok\": true},"
                 "{\"index\": 1, \"ok\": false, \"oom\": true, \"error\": \"big\"},"
                 "{\"input\": \"c\"}, {\"ok\": true}, {\"index\": -1, \"ok\": true}, 5]}",
                 &reply));
  ASSERT_EQ(reply.results.size(), 2u);
  EXPECT_EQ(reply.results[0].input, "a");
  EXPECT_TRUE(reply.results[0].ok);
  EXPECT_EQ(reply.results[1].index, 1u);
  EXPECT_FALSE(reply.results[1].ok);
  EXPECT_TRUE(reply.results[1].oom);
  EXPECT_EQ(reply.results[1].error, "big");
}

TEST(WorkerProtocolTest, OtherLinesAreNotReplies) {
  WorkerReply reply;
  for (const char* line :
       {"", "loading model...", "[1, 2]", "{\"ok\": true}", "{\"id\": \"7\", \"ok\": true}",
        "{\"id\": 7}", "{\"id\": 7, \"ok\": \"yes\"}", "{\"id\": 7, \"ok\": true",
        "{\"id\": 1.5, \"ok\": true}", "{broken"}) {
    EXPECT_FALSE(ParseReply(line, &reply)) << line;
  }
}

TEST(WorkerProtocolTest, ALineLikeAnObjectThatIsNotJsonIsAMalformedReply) {
  for (const char* line : {"{broken", "{\"id\": 7, \"ok\": true, \"score\": Infinity}",
                           " {\"id\": 7, \"ok\": true, \"x\": NaN}", "{\"id\": 7, \"ok\": true"}) {
    EXPECT_TRUE(IsMalformedReply(line)) << line;
  }
  for (const char* line : {"", "loading model...", "[1, 2", "{\"ok\": true}",
                           "{\"id\": 7, \"ok\": true}", "{\"e\": \"\\udcff\"}"}) {
    EXPECT_FALSE(IsMalformedReply(line)) << line;
  }
}

TEST(WorkerProtocolTest, UnpairedSurrogateEscapesAreReadAsReplacementCharacters) {
  // Python's json.dumps of an error naming a surrogate-escaped file name.
  WorkerReply reply;
  ASSERT_TRUE(ParseReply(
      "{\"id\": 2, \"ok\": false, \"error\": \"no \\udcff\\ud83d\\ude00 \\\\udc80\"}", &reply));
  EXPECT_EQ(reply.error, "no \xef\xbf\xbd\xf0\x9f\x98\x80 \\udc80");
}

TEST(WorkerProtocolTest, MapsResultsToPositions) {
  std::vector<std::string> inputs = {"a", "b", "a", "c"};
  std::vector<ReplyResult> results(6);
  results[0].input = "a";
  results[0].ok = true;
  results[1].input = "a";  // the second "a"
  results[1].oom = true;
  results[2].input = "a";  // no third one
  results[3].index = 3;
  results[3].error = "bad";
  results[4].index = 4;  // out of range
  results[5].index = 3;  // taken
  std::vector<InputResult> mapped = MapResults(results, inputs);
  ASSERT_EQ(mapped.size(), 3u);
  EXPECT_EQ(mapped[0].index, 0u);
  EXPECT_TRUE(mapped[0].ok);
  EXPECT_EQ(mapped[1].index, 2u);
  EXPECT_TRUE(mapped[1].oom);
  EXPECT_EQ(mapped[2].index, 3u);
  EXPECT_EQ(mapped[2].error, "bad");
}

}  // namespace
}  // namespace headroom
