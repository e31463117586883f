// The page templates and the stylesheet under rest_adapter/templates/, compiled into the
// binary so a running adapter needs no files beside it.
#pragma once

#include <string>
#include <string_view>

namespace paybell::rest {

// The file's content by file name ("billing.mustache", "paybell.css"). Throws
// common::Error(kInternal) for a name that was not embedded.
const std::string& EmbeddedTemplate(std::string_view name);

}  // namespace paybell::rest
