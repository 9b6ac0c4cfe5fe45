#pragma once

#include <string>
#include <vector>

namespace plugauth::store {

struct Migration {
  int version;
  std::string description;
  std::string sql;
};

// In ascending version order, starting at 1, without gaps.
const std::vector<Migration>& migrations();

}  // namespace plugauth::store
