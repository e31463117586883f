#include "rest_adapter/request_framer.h"

#include <algorithm>
#include <cctype>

namespace paybell::rest {
namespace {

// A chunk-size line: up to 8 hex digits and a short extension (which is ignored).
constexpr size_t kMaxChunkLineBytes = 256;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 token characters: what a header name may consist of.
bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void RequestFramer::Reset() { *this = RequestFramer(limits_); }

Framing RequestFramer::Refuse(int status, std::string reason) {
  phase_ = Phase::kDone;
  result_.state = Framing::State::kRefused;
  result_.status = status;
  result_.reason = std::move(reason);
  result_.awaits_continue = false;
  return result_;
}

Framing RequestFramer::Scan(std::string_view bytes) {
  while (phase_ != Phase::kDone) {
    switch (phase_) {
      case Phase::kHead: {
        const size_t newline = bytes.find('\n', pos_);
        const size_t scanned_to = newline == std::string_view::npos ? bytes.size() : newline + 1;
        // Checked before the line is complete, so a client streaming one endless line is
        // refused as soon as it passes the limit, not when it stops.
        if (header_lines_ == 0 && scanned_to > limits_.max_request_line_bytes) {
          return Refuse(414, "request line too long");
        }
        if (header_lines_ > 0 && scanned_to - line_start_ > limits_.max_header_line_bytes) {
          return Refuse(431, "header line too long");
        }
        if (scanned_to > limits_.max_head_bytes) {
          return Refuse(431, "request head too large");
        }
        if (newline == std::string_view::npos) {
          pos_ = bytes.size();
          return result_;
        }
        if (newline == line_start_ || bytes[newline - 1] != '\r') {
          return Refuse(400, "request lines must end in CRLF");
        }
        const size_t end = newline - 1;
        const std::string_view line = bytes.substr(line_start_, end - line_start_);
        if (line.find('\r') != std::string_view::npos) return Refuse(400, "stray CR in head");
        pos_ = line_start_ = newline + 1;
        if (line.empty() && header_lines_ > 0) {
          if (!HeadComplete(pos_)) return result_;
          break;
        }
        if (!HeadLine(line, end - line.size(), end)) return result_;
        break;
      }
      case Phase::kBody: {
        const uint64_t have = bytes.size() - body_start_;
        if (have < content_length_) {
          pos_ = bytes.size();
          return result_;
        }
        phase_ = Phase::kDone;
        result_.state = Framing::State::kComplete;
        result_.request_end = body_start_ + static_cast<size_t>(content_length_);
        result_.awaits_continue = false;
        return result_;
      }
      case Phase::kChunkSize:
      case Phase::kLastChunkEnd: {
        // Framing plus data may not exceed twice the body limit: one-byte chunks with long
        // extensions cannot make the connection buffer many times the limit.
        if (bytes.size() - body_start_ > 2 * limits_.max_body_bytes + kMaxChunkLineBytes) {
          return Refuse(413, "body over 1 MiB");
        }
        const size_t newline = bytes.find('\n', pos_);
        const size_t scanned_to = newline == std::string_view::npos ? bytes.size() : newline + 1;
        if (scanned_to - line_start_ > kMaxChunkLineBytes) {
          return Refuse(400, "malformed chunked body");
        }
        if (newline == std::string_view::npos) {
          pos_ = bytes.size();
          return result_;
        }
        if (newline == line_start_ || bytes[newline - 1] != '\r') {
          return Refuse(400, "malformed chunked body");
        }
        const std::string_view line = bytes.substr(line_start_, newline - 1 - line_start_);
        pos_ = line_start_ = newline + 1;
        if (phase_ == Phase::kLastChunkEnd) {
          if (!line.empty()) return Refuse(400, "chunked trailers are not accepted");
          phase_ = Phase::kDone;
          result_.state = Framing::State::kComplete;
          result_.request_end = pos_;
          result_.awaits_continue = false;
          return result_;
        }
        if (!ChunkSizeLine(line)) return result_;
        break;
      }
      case Phase::kChunkData: {
        const uint64_t available = bytes.size() - pos_;
        const uint64_t step = std::min(available, chunk_left_);
        pos_ += static_cast<size_t>(step);
        chunk_left_ -= step;
        if (chunk_left_ > 0) return result_;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd: {
        if (bytes.size() - pos_ < 2) return result_;
        if (bytes.substr(pos_, 2) != "\r\n") return Refuse(400, "malformed chunked body");
        pos_ += 2;
        line_start_ = pos_;
        phase_ = Phase::kChunkSize;
        break;
      }
      case Phase::kDone:
        break;
    }
  }
  return result_;
}

bool RequestFramer::HeadLine(std::string_view line, size_t begin, size_t end) {
  if (header_lines_++ == 0) {
    if (line.empty()) {
      Refuse(400, "empty request line");
      return false;
    }
    // The request line: cpp-httplib parses it. Only the version matters here (HTTP/1.0 clients
    // never wait for "100 Continue").
    http10_ = line.size() >= 9 && line.substr(line.size() - 9) == " HTTP/1.0";
    return true;
  }
  if (header_lines_ - 1 > limits_.max_header_lines) {
    Refuse(431, "too many header lines");
    return false;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    Refuse(400, "folded header lines are not accepted");
    return false;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                   [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); })) {
    Refuse(400, "malformed header line");
    return false;
  }
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = TrimSpaces(line.substr(colon + 1));
  if (EqualsIgnoringCase(name, "Content-Length")) {
    if (has_content_length_ || value.empty() || value.size() > 18 ||
        !std::all_of(value.begin(), value.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      Refuse(400, "malformed Content-Length");
      return false;
    }
    has_content_length_ = true;
    content_length_ = std::stoull(std::string(value));
  } else if (EqualsIgnoringCase(name, "Transfer-Encoding")) {
    if (has_transfer_encoding_) {
      Refuse(400, "more than one Transfer-Encoding");
      return false;
    }
    has_transfer_encoding_ = true;
    if (!EqualsIgnoringCase(value, "chunked")) {
      Refuse(501, "only Transfer-Encoding: chunked is supported");
      return false;
    }
    chunked_ = true;
  } else if (EqualsIgnoringCase(name, "Expect")) {
    if (expect_continue_) {
      Refuse(400, "more than one Expect");
      return false;
    }
    if (EqualsIgnoringCase(value, "100-continue")) {
      expect_continue_ = true;
      dropped_.push_back({begin, end + 2});  // with its CRLF
    }
  } else if (EqualsIgnoringCase(name, "Range")) {
    dropped_.push_back({begin, end + 2});
  } else if (EqualsIgnoringCase(name, "X-Request-Id")) {
    result_.request_id = std::string(value);
  }
  return true;
}

bool RequestFramer::HeadComplete(size_t head_end) {
  if (has_content_length_ && has_transfer_encoding_) {
    // Two framings that disagree about where the body ends: behind a proxy that picks the other
    // one, this is how requests are smuggled (RFC 9112 §6.1).
    Refuse(400, "both Content-Length and Transfer-Encoding");
    return false;
  }
  if (has_content_length_ && content_length_ > limits_.max_body_bytes) {
    Refuse(413, "body over 1 MiB");
    return false;
  }
  body_start_ = head_end;
  line_start_ = head_end;
  result_.dropped = dropped_;
  result_.awaits_continue = expect_continue_ && !http10_ && (chunked_ || content_length_ > 0);
  phase_ = chunked_ ? Phase::kChunkSize : Phase::kBody;
  return true;
}

bool RequestFramer::ChunkSizeLine(std::string_view line) {
  const std::string_view size = TrimSpaces(line.substr(0, line.find(';')));
  if (size.empty() || size.size() > 8 || !std::all_of(size.begin(), size.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    Refuse(400, "malformed chunked body");
    return false;
  }
  const uint64_t chunk = std::stoull(std::string(size), nullptr, 16);
  if (chunk == 0) {
    phase_ = Phase::kLastChunkEnd;
    return true;
  }
  body_bytes_ += chunk;
  if (body_bytes_ > limits_.max_body_bytes) {
    Refuse(413, "body over 1 MiB");
    return false;
  }
  chunk_left_ = chunk;
  phase_ = Phase::kChunkData;
  return true;
}

}  // namespace paybell::rest
