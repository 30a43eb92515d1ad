#pragma once

// Duplicate keys in YAML mappings. yaml-cpp's node API keeps the first of two
// equal keys and hides the second, so every file demerit reads (sites.yaml,
// packs, rule tests, the processor's configuration) is also checked here.

#include <string>
#include <vector>

namespace demerit::core {

// Every key that appears again in the same mapping of `text`, at any depth,
// as "path:line:column: duplicate key ..." at the repeated key, in document
// order. A key is its scalar text ("a" and 'a' are one key); keys that are
// themselves mappings or lists are not compared. Text that is not valid YAML
// gives the duplicates found before the fault: loading it reports the fault.
std::vector<std::string> FindDuplicateKeys(const std::string& path, const std::string& text);

}  // namespace demerit::core
