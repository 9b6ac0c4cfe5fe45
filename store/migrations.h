#pragma once

#include <string>
#include <vector>

namespace plugauth::store {

struct Migration {
  int version;
  std::string description;
  std::string sql;
  // Optional: a SELECT run in the migration's transaction just before `sql`.
  // Each row's first column is one line saying what the migration takes
  // away (a grant, say); the store logs every line once the migration has
  // committed, so an operator learns of each loss.
  std::string losses_sql = {};
};

// In ascending version order, starting at 1, without gaps.
const std::vector<Migration>& migrations();

}  // namespace plugauth::store
