// Escaping of log messages, so that one log call writes exactly one line that says what it got.
//
// Messages carry values from outside (request paths, Stripe event ids and types, a token's
// `sub`). Raw, a CR/LF forges a second log line, an ESC sequence rewrites the operator's terminal,
// and an invalid UTF-8 byte makes a JSON log line unparsable.
#pragma once

#include <string>
#include <string_view>

namespace paybell::common {

// For text logs: valid UTF-8 passes through unchanged ("Zürich", emoji) except
//   - `\` becomes `\\`, so an escape in the output always means an escaped character;
//   - LF, CR, TAB become `\n`, `\r`, `\t`; other C0 controls and DEL become `\xNN` (ESC is
//     `\x1b`);
//   - C1 controls U+0080–U+009F, the line and paragraph separators U+2028/U+2029 and the bidi
//     embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) become `\uNNNN`: some
//     terminals and viewers act on them as on CSI or a line break, or reorder the line;
//   - every byte of an ill-formed UTF-8 sequence (stray continuation, overlong form, surrogate,
//     truncated sequence, byte above 0xF4) becomes `\xNN`.
// The result is valid UTF-8 without any control character.
std::string EscapeForTextLog(std::string_view text);

// For the inside of a JSON string literal: `"` and `\` escaped, control characters as `\n`,
// `\r`, `\t`, `\b`, `\f` or `\u00NN`, DEL and the characters listed above as `\uNNNN`. Each
// maximal ill-formed UTF-8 subsequence (Unicode §3.9, "U+FFFD substitution of maximal
// subparts") becomes `\ufffd`. The result is always valid UTF-8 and valid JSON string content.
std::string JsonEscape(std::string_view text);

}  // namespace paybell::common
