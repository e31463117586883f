// Converting stored Unix-second times to google.protobuf.Timestamp fields.
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>

namespace paybell::common {

// Sets the field `mutable_field()` returns when the time is known. Takes the accessor rather
// than the field, because calling mutable_x() marks x present even when it stays zero.
template <typename MutableField>
void SetTimestampIfKnown(const std::optional<int64_t>& unix_seconds, MutableField mutable_field) {
  if (unix_seconds) mutable_field()->set_seconds(*unix_seconds);
}

}  // namespace paybell::common
