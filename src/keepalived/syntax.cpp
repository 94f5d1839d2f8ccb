#include "keepalived/syntax.hpp"

#include <fnmatch.h>
#include <glob.h>

#include <cctype>
#include <map>

#include "base/file.hpp"

namespace vs::keepalived {

Error Syntax::error(Pos at, std::string message) const {
  Error e{std::move(message), at.line, at.column};
  if (at.file < files.size()) e.file = files[at.file];
  return e;
}

std::optional<std::string> DiskFiles::contents(const std::string& path, std::string& why) {
  auto text = read_file(path);
  if (!text) {
    why = text.error().message;
    return std::nullopt;
  }
  return std::move(text.value());
}

std::vector<std::string> DiskFiles::glob(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> out;
  if (::glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

std::optional<std::string> MemoryFiles::contents(const std::string& path, std::string& why) {
  auto it = files.find(path);
  if (it == files.end()) {
    why = "No such file or directory";
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::string> MemoryFiles::glob(const std::string& pattern) {
  std::vector<std::string> out;  // sorted: the map's order
  for (const auto& f : files)
    if (::fnmatch(pattern.c_str(), f.first.c_str(), FNM_PATHNAME) == 0) out.push_back(f.first);
  return out;
}

namespace {

struct Tok {
  std::string text;
  Pos pos;
  bool brace = false;  // text is "{" or "}" (unquoted)
  uint64_t line = 0;   // which physical line (statements end with their line)
};

struct Failed {
  Error error;
};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[{~") != std::string_view::npos; }

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class Lexer {
public:
  Lexer(const SyntaxOptions& opt, Files& files, Syntax& out) : opt_(opt), files_(files), out_(out) {}

  void file(const std::string& path, uint32_t depth, std::optional<Pos> from) {
    std::string why;
    auto text = files_.contents(path, why);
    if (!text) fail(from, "cannot read " + path + ": " + why);
    bytes_ += text->size();
    if (bytes_ > opt_.max_bytes)
      fail(from, "the configuration is larger than " + std::to_string(opt_.max_bytes) + " bytes with its includes");
    const auto index = static_cast<uint32_t>(out_.files.size());
    out_.files.push_back(path);
    std::string_view rest = *text;
    uint32_t line_no = 0;
    while (!rest.empty() || line_no == 0) {
      const size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      ++line_no;
      this->line(line, Pos{index, line_no, 1}, path, depth);
      if (nl == std::string_view::npos) break;
    }
  }

  std::vector<Tok> toks;

private:
  [[noreturn]] void fail(std::optional<Pos> at, std::string message) {
    if (!at) throw Failed{Error{std::move(message)}};
    throw Failed{out_.error(*at, std::move(message))};
  }

  void line(std::string_view raw, Pos start, const std::string& path, uint32_t depth) {
    // Characters with their columns (substitution moves text but keeps where it came from).
    std::string s;
    std::vector<uint32_t> col;
    size_t i = 0;
    while (i < raw.size() && blank(raw[i])) ++i;
    // @id / @^id: the line counts only for that configuration id (or for every other one).
    if (i < raw.size() && raw[i] == '@') {
      size_t j = i + 1;
      const bool negate = j < raw.size() && raw[j] == '^';
      if (negate) ++j;
      const size_t id_start = j;
      while (j < raw.size() && !blank(raw[j])) ++j;
      const std::string_view id = raw.substr(id_start, j - id_start);
      if (id.empty()) fail(Pos{start.file, start.line, static_cast<uint32_t>(i + 1)}, "'@' without a configuration id");
      if ((id == opt_.config_id) == negate) return;
      i = j;
      while (i < raw.size() && blank(raw[i])) ++i;
    }
    // $NAME=value: a definition.
    if (i < raw.size() && raw[i] == '$') {
      size_t j = i + 1;
      while (j < raw.size() && name_char(raw[j])) ++j;
      if (j > i + 1 && j < raw.size() && raw[j] == '=') {
        std::string_view value = raw.substr(j + 1);
        while (!value.empty() && blank(value.back())) value.remove_suffix(1);
        if (!value.empty() && value.back() == '\\')
          fail(Pos{start.file, start.line, static_cast<uint32_t>(i + 1)},
               "keyword not supported: multi-line definition (a '$' definition continued with '\\')");
        defs_[std::string(raw.substr(i + 1, j - i - 1))] = substitute(value);
        return;
      }
    }
    // $NAME and ${NAME}: the definition's text (an undefined name stays as it is).
    for (; i < raw.size(); ++i) {
      size_t last = 0;
      if (const std::string* def = reference(raw, i, last)) {
        for (char c : *def) {
          s.push_back(c);
          col.push_back(static_cast<uint32_t>(i + 1));
        }
        i = last;
        continue;
      }
      s.push_back(raw[i]);
      col.push_back(static_cast<uint32_t>(i + 1));
    }
    tokenize(s, col, start, path, depth);
  }

  /// The definition `$NAME` or `${NAME}` at s[i] names, if defined (`last`: its final character).
  const std::string* reference(std::string_view s, size_t i, size_t& last) const {
    if (s[i] != '$') return nullptr;
    size_t j = i + 1;
    const bool braced = j < s.size() && s[j] == '{';
    if (braced) ++j;
    const size_t n0 = j;
    while (j < s.size() && name_char(s[j])) ++j;
    if (j == n0 || (braced && (j >= s.size() || s[j] != '}'))) return nullptr;
    auto it = defs_.find(std::string(s.substr(n0, j - n0)));
    if (it == defs_.end()) return nullptr;
    last = braced ? j : j - 1;
    return &it->second;
  }

  std::string substitute(std::string_view v) const {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      size_t last = 0;
      if (const std::string* def = reference(v, i, last)) {
        out += *def;
        i = last;
        continue;
      }
      out.push_back(v[i]);
    }
    return out;
  }

  void tokenize(const std::string& s, const std::vector<uint32_t>& col, Pos start, const std::string& path,
                uint32_t depth) {
    const uint64_t line_id = ++line_counter_;
    const size_t first = toks.size();
    size_t i = 0;
    auto at = [&](size_t k) {
      return Pos{start.file, start.line, k < col.size() ? col[k] : col.empty() ? 1 : col.back()};
    };
    while (i < s.size()) {
      const char c = s[i];
      if (blank(c)) {
        ++i;
        continue;
      }
      if (c == '#' || c == '!') break;
      if (c == '{' || c == '}') {
        toks.push_back(Tok{std::string(1, c), at(i), true, line_id});
        ++i;
        continue;
      }
      Tok t{{}, at(i), false, line_id};
      char quote = 0;
      while (i < s.size()) {
        const char d = s[i];
        if (quote != 0) {
          if (d == quote) {
            quote = 0;
            ++i;
          } else if (d == '\\' && i + 1 < s.size()) {
            i = escape(s, i + 1, t.text);
          } else {
            t.text.push_back(d);
            ++i;
          }
          continue;
        }
        if (blank(d) || d == '{' || d == '}' || d == '#' || d == '!') break;
        if (d == '"' || d == '\'') {
          quote = d;
          ++i;
          continue;
        }
        t.text.push_back(d);
        ++i;
      }
      if (quote != 0) fail(t.pos, std::string("unterminated quoted string (no closing ") + quote + ")");
      if (t.text.rfind("~SEQ(", 0) == 0) fail(t.pos, "keyword not supported: ~SEQ (sequence lines)");
      toks.push_back(std::move(t));
    }
    // include FILE: the files it names, in place.
    if (toks.size() > first && !toks[first].brace) {
      const std::string& kw = toks[first].text;
      if (kw == "include" || kw == "includer" || kw == "includem" || kw == "includew" || kw == "includeb" ||
          kw == "includea") {
        const Pos kw_pos = toks[first].pos;
        if (toks.size() != first + 2 || toks[first + 1].brace) fail(kw_pos, kw + " takes one file name (or pattern)");
        std::string pattern = toks[first + 1].text;
        toks.resize(first);
        if (depth + 1 > opt_.max_include_depth)
          fail(kw_pos, "includes nested deeper than " + std::to_string(opt_.max_include_depth));
        if (pattern.empty() || pattern[0] != '/') pattern = dir_of(path) + "/" + pattern;
        auto paths = files_.glob(pattern);
        if (paths.empty() && (!has_wildcard(pattern) || kw != "include"))
          fail(kw_pos, kw + ": no file matches " + pattern);
        for (const auto& p : paths) file(p, depth + 1, kw_pos);
      }
    }
  }

  // The shell's escapes in a quoted string (keepalived.conf(5), "Quoted strings"); `i` is past
  // the backslash. Returns the index after the escape.
  static size_t escape(const std::string& s, size_t i, std::string& out) {
    const char c = s[i];
    auto hexval = [](char h) {
      return h >= '0' && h <= '9'   ? h - '0'
             : h >= 'a' && h <= 'f' ? h - 'a' + 10
             : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                    : -1;
    };
    switch (c) {
      case 'a': out.push_back('\a'); return i + 1;
      case 'b': out.push_back('\b'); return i + 1;
      case 'E': out.push_back('\x1b'); return i + 1;
      case 'f': out.push_back('\f'); return i + 1;
      case 'n': out.push_back('\n'); return i + 1;
      case 'r': out.push_back('\r'); return i + 1;
      case 't': out.push_back('\t'); return i + 1;
      case 'v': out.push_back('\v'); return i + 1;
      case 'x': {
        size_t j = i + 1;
        int v = 0;
        while (j < s.size() && j < i + 3 && hexval(s[j]) >= 0) v = v * 16 + hexval(s[j++]);
        if (j == i + 1) {
          out.push_back('x');
          return i + 1;
        }
        out.push_back(static_cast<char>(v));
        return j;
      }
      case 'c':
        if (i + 1 < s.size()) {
          out.push_back(static_cast<char>(s[i + 1] & 0x1f));
          return i + 2;
        }
        out.push_back('c');
        return i + 1;
      default:
        if (c >= '0' && c <= '7') {
          size_t j = i;
          int v = 0;
          while (j < s.size() && j < i + 3 && s[j] >= '0' && s[j] <= '7') v = v * 8 + (s[j++] - '0');
          out.push_back(static_cast<char>(v & 0xff));
          return j;
        }
        out.push_back(c);
        return i + 1;
    }
  }

  const SyntaxOptions& opt_;
  Files& files_;
  Syntax& out_;
  std::map<std::string, std::string> defs_;
  size_t bytes_ = 0;
  uint64_t line_counter_ = 0;
};

// Statements from tokens: a statement is the words of one line; `{` opens the block of the
// statement before it (on its line or an earlier one), `}` closes it.
void build(const std::vector<Tok>& toks, const SyntaxOptions& opt, Syntax& out) {
  struct Level {
    std::vector<Node>* list;
    Pos open;
  };
  std::vector<Level> stack{{&out.nodes, {}}};
  bool open_stmt = false;  // the last statement of the current list takes more words
  uint64_t stmt_line = 0;
  for (const Tok& t : toks) {
    std::vector<Node>& list = *stack.back().list;
    if (t.brace && t.text == "{") {
      if (list.empty() || list.back().block) throw Failed{out.error(t.pos, "'{' without a keyword before it")};
      if (stack.size() > opt.max_block_depth)
        throw Failed{out.error(t.pos, "blocks nested deeper than " + std::to_string(opt.max_block_depth))};
      list.back().block = true;
      stack.push_back({&list.back().children, t.pos});
      open_stmt = false;
      continue;
    }
    if (t.brace) {
      if (stack.size() == 1) throw Failed{out.error(t.pos, "'}' without a block to close")};
      stack.pop_back();
      open_stmt = false;
      continue;
    }
    if (open_stmt && stmt_line == t.line && !list.empty()) {
      list.back().words.push_back(Word{t.text, t.pos});
      continue;
    }
    list.push_back(Node{{Word{t.text, t.pos}}, false, {}});
    open_stmt = true;
    stmt_line = t.line;
  }
  if (stack.size() > 1) throw Failed{out.error(stack.back().open, "'{' is never closed")};
}

}  // namespace

Result<Syntax> read_syntax(const std::string& path, const SyntaxOptions& opt, Files& files) {
  Syntax out;
  try {
    Lexer lex(opt, files, out);
    lex.file(path, 0, std::nullopt);
    build(lex.toks, opt, out);
  } catch (const Failed& f) {
    return f.error;
  }
  return out;
}

bool looks_like_keepalived(std::string_view text) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t i = 0;
    while (i < line.size() && blank(line[i])) ++i;
    line.remove_prefix(i);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    if (line[0] == '[') return false;
    if (line[0] == '$' || line[0] == '@') return true;
    const size_t eq = line.find('='), brace = line.find('{');
    return !(eq != std::string_view::npos && (brace == std::string_view::npos || eq < brace));
  }
  return false;
}

}  // namespace vs::keepalived
