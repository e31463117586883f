// Where a request ends, and what is refused before cpp-httplib sees it.
#include "rest_adapter/request_framer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace paybell::rest {
namespace {

using State = Framing::State;

Framing ScanAll(const std::string& bytes, FramerLimits limits = {}) {
  RequestFramer framer(limits);
  return framer.Scan(bytes);
}

// Feeds `bytes` one byte more at a time, as a slow client would, and returns the first answer
// that is not kNeedMore (or the last kNeedMore), with the number of bytes it took.
std::pair<Framing, size_t> ScanByteByByte(const std::string& bytes, FramerLimits limits = {}) {
  RequestFramer framer(limits);
  Framing framing;
  for (size_t n = 1; n <= bytes.size(); ++n) {
    framing = framer.Scan(std::string_view(bytes).substr(0, n));
    if (framing.state != State::kNeedMore) return {framing, n};
  }
  return {framing, bytes.size()};
}

const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(RequestFramerTest, AHeadWithoutBodyEndsAtTheBlankLine) {
  const Framing framing = ScanAll(kGet + "GET /next");
  EXPECT_EQ(framing.state, State::kComplete);
  EXPECT_EQ(framing.request_end, kGet.size());
}

TEST(RequestFramerTest, ContentLengthCountsTheBody) {
  const std::string request = "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  auto [framing, used] = ScanByteByByte(request + "GET /next HTTP/1.1\r\n\r\n");
  EXPECT_EQ(framing.state, State::kComplete);
  EXPECT_EQ(framing.request_end, request.size());
  EXPECT_EQ(used, request.size()) << "complete exactly when the last body byte arrives";
}

TEST(RequestFramerTest, ChunkedBodiesEndAfterTheLastChunkWhateverTheSplit) {
  const std::string request =
      "POST /p HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";
  auto [framing, used] = ScanByteByByte(request + "extra");
  EXPECT_EQ(framing.state, State::kComplete) << framing.reason;
  EXPECT_EQ(framing.request_end, request.size());
  EXPECT_EQ(used, request.size());
}

TEST(RequestFramerTest, TheRequestIdIsKeptForRefusals) {
  const Framing framing =
      ScanAll("POST /p HTTP/1.1\r\nX-Request-Id: abc-1\r\nContent-Length: x\r\n\r\n");
  EXPECT_EQ(framing.state, State::kRefused);
  EXPECT_EQ(framing.request_id, "abc-1");
}

struct Refusal {
  std::string name;
  std::string bytes;
  int status;
  std::string reason;
};

class RequestFramerRefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(RequestFramerRefusalTest, IsRefusedWhetherItArrivesAtOnceOrByteByByte) {
  const Refusal& refusal = GetParam();
  const Framing at_once = ScanAll(refusal.bytes);
  EXPECT_EQ(at_once.state, State::kRefused);
  EXPECT_EQ(at_once.status, refusal.status) << at_once.reason;
  EXPECT_THAT(at_once.reason, ::testing::HasSubstr(refusal.reason));
  const Framing slowly = ScanByteByByte(refusal.bytes).first;
  EXPECT_EQ(slowly.state, State::kRefused);
  EXPECT_EQ(slowly.status, refusal.status);
}

std::string Lines(size_t count, const std::string& line) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += line;
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Framing, RequestFramerRefusalTest,
    ::testing::Values(
        Refusal{"BothFramings",
                "POST /p HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "both Content-Length and Transfer-Encoding"},
        Refusal{"TwoContentLengths",
                "POST /p HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", 400,
                "Content-Length"},
        Refusal{"SignedContentLength", "POST /p HTTP/1.1\r\nContent-Length: +4\r\n\r\n", 400,
                "Content-Length"},
        Refusal{"HugeContentLength",
                "POST /p HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400,
                "Content-Length"},
        Refusal{"GzipTransferEncoding", "POST /p HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                "chunked"},
        Refusal{"ChunkedThenGzip", "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                501, "chunked"},
        Refusal{"TwoTransferEncodings",
                "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                "chunked\r\n\r\n",
                400, "Transfer-Encoding"},
        Refusal{"BareLineFeeds", "GET / HTTP/1.1\nHost: x\n\n", 400, "CRLF"},
        Refusal{"StrayCarriageReturn", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "CR"},
        Refusal{"FoldedHeader", "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", 400, "folded"},
        Refusal{"SpaceBeforeColon", "POST /p HTTP/1.1\r\nContent-Length : 4\r\n\r\nbody", 400,
                "malformed header"},
        Refusal{"NoColon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400, "malformed header"},
        Refusal{"EmptyRequestLine", "\r\nGET / HTTP/1.1\r\n\r\n", 400, "empty request line"},
        Refusal{"BodyAnnouncedOverTheLimit", "POST /p HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n",
                413, "body over 1 MiB"},
        Refusal{"ChunksOverTheLimit",
                "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80000\r\n" +
                    std::string(0x80000, 'x') + "\r\n80001\r\n",
                413, "body over 1 MiB"},
        Refusal{"BadChunkSize", "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
                "chunked"},
        Refusal{"ChunkWithoutItsCrlf",
                "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 400,
                "chunked"},
        Refusal{"Trailers",
                "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n", 400,
                "trailers"},
        Refusal{"TooManyHeaderLines", "GET / HTTP/1.1\r\n" + Lines(101, "X-A: b\r\n") + "\r\n", 431,
                "too many header lines"},
        Refusal{"HeadTooLarge",
                "GET / HTTP/1.1\r\n" + Lines(3, "X-A: " + std::string(8000, 'a') + "\r\n"), 431,
                "request head too large"},
        Refusal{"EndlessHeaderLine", "GET / HTTP/1.1\r\nX-A: " + std::string(20000, 'a'), 431,
                "header line too long"},
        Refusal{"HeaderLineOverEightKibibytes",
                "GET / HTTP/1.1\r\nX-A: " + std::string(8200, 'a') + "\r\n\r\n", 431,
                "header line too long"},
        Refusal{"TwoExpects",
                "POST / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n"
                "Content-Length: 2\r\n\r\nhi",
                400, "more than one Expect"},
        Refusal{"EndlessRequestLine", "GET /" + std::string(9000, 'a'), 414,
                "request line too long"}),
    [](const ::testing::TestParamInfo<Refusal>& param) { return param.param.name; });

TEST(RequestFramerTest, OneMebibyteOfBodyIsAccepted) {
  const std::string request =
      "POST /p HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n" + std::string(1 << 20, 'x');
  EXPECT_EQ(ScanAll(request).state, State::kComplete);
}

TEST(RequestFramerTest, ManySmallChunksCannotMakeTheFramingLargerThanTheLimitAllows) {
  // One data byte per chunk with a long extension: the data stays under 1 MiB, but the bytes on
  // the wire would not.
  std::string request = "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk = "1;" + std::string(200, 'e') + "\r\nx\r\n";
  while (request.size() < (3u << 20)) request += chunk;
  const Framing framing = ScanAll(request);
  EXPECT_EQ(framing.state, State::kRefused);
  EXPECT_EQ(framing.status, 413);
}

TEST(RequestFramerTest, ExpectContinueIsDroppedAndAwaitedOnlyWhenABodyFollows) {
  const std::string head =
      "POST /p HTTP/1.1\r\nHost: x\r\nexpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
  RequestFramer framer;
  const Framing waiting = framer.Scan(head);
  EXPECT_EQ(waiting.state, State::kNeedMore);
  EXPECT_TRUE(waiting.awaits_continue);
  ASSERT_EQ(waiting.dropped.size(), 1u);
  EXPECT_EQ(
      head.substr(waiting.dropped[0].begin, waiting.dropped[0].end - waiting.dropped[0].begin),
      "expect: 100-Continue\r\n");
  const Framing complete = framer.Scan(head + "abc");
  EXPECT_EQ(complete.state, State::kComplete);
  EXPECT_FALSE(complete.awaits_continue);

  // The body came with the head: nothing to wait for, but the line is still dropped.
  const Framing at_once = ScanAll(head + "abc");
  EXPECT_EQ(at_once.state, State::kComplete);
  EXPECT_FALSE(at_once.awaits_continue);
  EXPECT_EQ(at_once.dropped.size(), 1u);

  EXPECT_FALSE(ScanAll("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").awaits_continue);
  // HTTP/1.0 clients never wait for it (RFC 9110 §10.1.1).
  const Framing old =
      ScanAll("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_FALSE(old.awaits_continue);
  EXPECT_EQ(old.dropped.size(), 1u);
}

TEST(RequestFramerTest, LinesOfEightKibibytesWithTheirCrlfAreTheLongestAccepted) {
  const std::string request_line = "GET /" + std::string(8192 - 16, 'a') + " HTTP/1.1\r\n";
  ASSERT_EQ(request_line.size(), 8192u);
  EXPECT_EQ(ScanAll(request_line + "\r\n").state, State::kComplete);
  EXPECT_EQ(ScanAll("GET /a" + request_line.substr(5) + "\r\n").status, 414);

  const std::string header = "X-A: " + std::string(8192 - 7, 'a') + "\r\n";
  ASSERT_EQ(header.size(), 8192u);
  EXPECT_EQ(ScanAll("GET / HTTP/1.1\r\n" + header + "\r\n").state, State::kComplete);
  EXPECT_EQ(ScanAll("GET / HTTP/1.1\r\nX" + header + "\r\n").status, 431);
}

TEST(RequestFramerTest, RangeIsDropped) {
  const std::string request = "GET /p HTTP/1.1\r\nRange: bytes=0-,0-,0-\r\nHost: x\r\n\r\n";
  const Framing framing = ScanAll(request);
  EXPECT_EQ(framing.state, State::kComplete);
  ASSERT_EQ(framing.dropped.size(), 1u);
  EXPECT_EQ(
      request.substr(framing.dropped[0].begin, framing.dropped[0].end - framing.dropped[0].begin),
      "Range: bytes=0-,0-,0-\r\n");
}

TEST(RequestFramerTest, ResetStartsOverForTheNextRequest) {
  RequestFramer framer;
  EXPECT_EQ(framer.Scan("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n").state, State::kRefused);
  framer.Reset();
  EXPECT_EQ(framer.Scan(kGet).state, State::kComplete);
}

}  // namespace
}  // namespace paybell::rest
