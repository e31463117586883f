// Converting stored Unix-second times to and from google.protobuf.Timestamp.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>

namespace paybell::common {

// Sets *out when the time is known; leaves the field unset otherwise.
inline void SetTimestamp(const std::optional<int64_t>& unix_seconds,
                         google::protobuf::Timestamp* out) {
  if (unix_seconds) out->set_seconds(*unix_seconds);
}

}  // namespace paybell::common
