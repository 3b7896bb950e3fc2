#pragma once
// Base64 (RFC 4648, standard alphabet) for binary payloads inside JSON: the
// serve API's input tensors. Decoding is strict so that a malformed payload is
// reported instead of silently becoming other bytes.
#include <optional>
#include <string>
#include <string_view>

namespace distillery {

std::string encodeBase64(std::string_view bytes);
// The bytes, or nothing when the text has a character outside the alphabet,
// a length that no encoding gives, or padding anywhere but at the end.
// Padding ("=") may be omitted.
std::optional<std::string> decodeBase64(std::string_view text);

} // namespace distillery
