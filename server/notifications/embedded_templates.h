// The message templates under server/notifications/templates/, compiled into the binary so a
// running server needs no files beside it.
#pragma once

#include <string>
#include <string_view>

namespace paybell::notifications {

// The template file's content by file name ("email.html.mustache"). Throws
// common::Error(kInternal) for a name that was not embedded.
const std::string& EmbeddedTemplate(std::string_view name);

}  // namespace paybell::notifications
