// Finds where one HTTP/1.1 request ends in the bytes a connection has sent so far, so the front
// door (front_door.h) can read a whole request before a worker thread touches it, and refuses
// what must never reach cpp-httplib: heads too large or with too many lines, bodies over the
// limit, ambiguous framing. No I/O: it is fed the connection's buffer and says what it holds.
//
// Stricter than RFC 9112 where being lenient would let the framer and cpp-httplib disagree about
// where a request ends (the shape request smuggling needs): every line ends in CRLF, no folded
// header lines, no space before a header's colon, one Content-Length of digits only, the only
// Transfer-Encoding is "chunked", never both, no chunked trailers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/limits.h"

namespace paybell::rest {

struct FramerLimits {
  // Request line and header lines together, CRLFs included.
  size_t max_head_bytes = 16 * 1024;
  // One line with its CRLF: cpp-httplib refuses longer ones itself (8192), with a bare answer
  // that keeps the connection; the framer refuses them first (414 / 431).
  size_t max_request_line_bytes = 8 * 1024;
  size_t max_header_line_bytes = 8 * 1024;
  size_t max_header_lines = 100;
  // The body as the handler sees it (chunked: the data, without the framing).
  size_t max_body_bytes = common::kMaxStripeEventBytes;
};

// A header line the front door removes before cpp-httplib sees the head: [begin, end), CRLF
// included.
struct DroppedLine {
  size_t begin = 0;
  size_t end = 0;
};

struct Framing {
  enum class State {
    kNeedMore,  // the request is not complete yet
    kComplete,  // bytes [0, request_end) are one whole request
    kRefused,   // answer `status` with `reason`, then close
  };
  State state = State::kNeedMore;
  size_t request_end = 0;
  int status = 0;
  std::string reason;
  // Once the head is complete: header lines to remove, in order. "Expect: 100-continue" (the
  // front door answers it, when the body is still to come, so cpp-httplib never does) and
  // "Range" (no route serves partial content, and cpp-httplib would answer one request for
  // thousands of ranges with a response hundreds of times its size).
  std::vector<DroppedLine> dropped;
  // kNeedMore, an HTTP/1.1 head with "Expect: 100-continue" and a body announced: the client may
  // be waiting for "100 Continue" before sending it.
  bool awaits_continue = false;
  // The X-Request-Id header as sent (unsanitised; empty when absent or the head is incomplete),
  // so a refusal can carry the caller's id.
  std::string request_id;
};

class RequestFramer {
 public:
  explicit RequestFramer(FramerLimits limits = {}) : limits_(limits) {}

  // `bytes`: the connection's buffer from the first byte of this request. Call again with the
  // same buffer grown by newly read bytes: scanning resumes where it stopped, so a request
  // costs O(its size) however it is split. A refusal or completion is final until Reset().
  Framing Scan(std::string_view bytes);
  // For the next request on the connection (or after the buffer changed before the scan point).
  void Reset();

 private:
  enum class Phase { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kLastChunkEnd, kDone };

  Framing Refuse(int status, std::string reason);
  // One complete head line [begin, end) without its CRLF; false when refused.
  bool HeadLine(std::string_view line, size_t begin, size_t end);
  bool HeadComplete(size_t head_end);
  bool ChunkSizeLine(std::string_view line);

  FramerLimits limits_;
  Framing result_;
  Phase phase_ = Phase::kHead;
  size_t pos_ = 0;         // everything before it has been scanned
  size_t line_start_ = 0;  // start of the line being scanned (head and chunk-size lines)
  size_t header_lines_ = 0;
  bool has_content_length_ = false;
  uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  bool chunked_ = false;
  bool expect_continue_ = false;
  bool http10_ = false;
  std::vector<DroppedLine> dropped_;
  size_t body_start_ = 0;
  uint64_t chunk_left_ = 0;  // data bytes of the current chunk not yet scanned
  uint64_t body_bytes_ = 0;  // decoded body bytes announced so far
};

}  // namespace paybell::rest
