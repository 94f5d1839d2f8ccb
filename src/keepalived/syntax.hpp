// keepalived.conf's syntax (keepalived.conf(5), "DESCRIPTION", "Quoted strings", "Conditional
// configuration", "Parameter substitution"; keepalived's lib/parser.c): files of lines, words
// split by blanks, `#` and `!` comments, "..." and '...' quoting with the shell's escapes, `{`
// and `}` blocks, `include` with wildcards, `$NAME=value` definitions with `$NAME` / `${NAME}`
// substitution, and `@id` / `@^id` lines kept only for (or except for) a configuration id.
//
// The result is a tree of statements, each word with its file, line and column, for the
// translator (keepalived/translate.hpp). Files are read through `Files`, so that a test or a fuzz
// target reads from memory; DiskFiles reads the file system (the control path only).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace vs::keepalived {

struct Pos {
  uint32_t file = 0;  // index into Syntax::files
  uint32_t line = 0;
  uint32_t column = 0;
};

struct Word {
  std::string text;
  Pos pos;
};

/// One statement: its words (the first is the keyword, or a list entry such as an address) and,
/// if `{` followed it, the statements of its block.
struct Node {
  std::vector<Word> words;
  bool block = false;
  std::vector<Node> children;
  const Word& keyword() const { return words.front(); }
  Pos pos() const { return words.front().pos; }
};

struct Syntax {
  std::vector<std::string> files;  // the main file first, then each included file
  std::vector<Node> nodes;         // the top level
  /// An error at `at`: "FILE:LINE:COL: message" once formatted.
  Error error(Pos at, std::string message) const;
};

/// Where the text comes from.
class Files {
public:
  virtual ~Files() = default;
  /// The file's text, or nullopt (then `why` says why).
  virtual std::optional<std::string> contents(const std::string& path, std::string& why) = 0;
  /// The paths matching a wildcard pattern (glob(3) with braces), sorted; none: empty.
  virtual std::vector<std::string> glob(const std::string& pattern) = 0;
};

/// The file system.
class DiskFiles : public Files {
public:
  std::optional<std::string> contents(const std::string& path, std::string& why) override;
  std::vector<std::string> glob(const std::string& pattern) override;
};

/// Files in memory (tests, the fuzz target): `glob` matches with fnmatch(3) (no braces).
class MemoryFiles : public Files {
public:
  std::map<std::string, std::string> files;  // path -> text
  std::optional<std::string> contents(const std::string& path, std::string& why) override;
  std::vector<std::string> glob(const std::string& pattern) override;
};

struct SyntaxOptions {
  std::string config_id;           // `@id` lines are kept when id is this (keepalived -i; default: the host name)
  uint32_t max_include_depth = 8;  // includes within includes
  size_t max_bytes = 16u << 20;    // all files together
  uint32_t max_block_depth = 16;   // blocks within blocks
};

/// Reads `path` and what it includes.
Result<Syntax> read_syntax(const std::string& path, const SyntaxOptions& opt, Files& files);

/// Whether `text` looks like keepalived.conf rather than TOML: its first statement (past blank and
/// comment lines) is a keepalived top-level keyword, or a line ends in `{`.
bool looks_like_keepalived(std::string_view text);

}  // namespace vs::keepalived
