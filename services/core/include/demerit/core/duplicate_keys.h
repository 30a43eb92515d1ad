#pragma once

// Duplicate keys in YAML mappings. yaml-cpp's node API keeps the first of two
// equal keys and hides the second, so every file demerit reads (sites.yaml,
// packs, rule tests, the processor's configuration) is also checked here.

#include <optional>
#include <string>
#include <vector>

namespace demerit::core {

// Every key that appears again in the same mapping of `text`, at any depth,
// as "path:line:column: duplicate key ..." at the repeated key, in document
// order. A key is its scalar text ("a" and 'a' are one key); keys that are
// themselves mappings or lists are not compared. Text that is not valid YAML
// gives the duplicates found before the fault: loading it reports the fault.
std::vector<std::string> FindDuplicateKeys(const std::string& path, const std::string& text);

// For a `text` that yaml-cpp loads as an empty document: the error
// "path:line:column: not valid YAML: ..." at its first line that is not blank,
// a comment, a document marker or an explicit null, if there is one. (yaml-cpp
// 0.7 loads some malformed text, such as `,a: 1`, as nothing at all.)
std::optional<std::string> UnreadContent(const std::string& path, const std::string& text);

}  // namespace demerit::core
