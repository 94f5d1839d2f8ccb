#include "ctl/restore_line.hpp"

namespace vs::ctl {

std::vector<std::string> split_restore_line(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < line.size()) {
    while (i < line.size() && sep(line[i])) ++i;
    size_t j = i;
    while (j < line.size() && !sep(line[j])) ++j;
    if (j > i) {
      std::string w(line.substr(i, j - i));
      if (w != "ipvsadm") words.push_back(std::move(w));
    }
    i = j;
  }
  return words;
}

}  // namespace vs::ctl
