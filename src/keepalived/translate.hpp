// keepalived.conf to vsrouter's TOML (docs/keepalived.md): every keyword keepalived accepts is
// translated with its meaning, or refused with its position ("keyword not supported: ..."), or,
// for the few that only mail or SNMP read, accepted with a note saying it has no effect. The TOML
// is then loaded by config::parse_config, the one home of every rule about values; an error it
// finds is reported at the keepalived line the TOML line came from.
//
// vsrouter's own settings, which keepalived.conf cannot say (interfaces with their TAP devices,
// MAC and addresses; routes; [router], [defense], [ipvs]), come from a TOML file given with
// --interfaces; keepalived.conf's `interface` lines name its [[interfaces]].
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/config.hpp"
#include "keepalived/syntax.hpp"

namespace vs::keepalived {

struct Translation {
  std::string toml;
  /// Per TOML line (index = line - 1): where it came from. file == kInterfacesFile: the
  /// --interfaces file, at the same line; line 0: generated, no position of its own.
  std::vector<Pos> origin;
  std::vector<std::string> notes;  // "FILE:LINE:COL: note: ..." (accepted keywords without effect)
};
inline constexpr uint32_t kInterfacesFile = UINT32_MAX;

struct LoadOptions {
  enum class Format : uint8_t { kAuto, kToml, kKeepalived };
  Format format = Format::kAuto;               // --format; kAuto: looks_like_keepalived
  std::optional<std::string> interfaces_path;  // --interfaces; nullopt: placeholder interfaces (check only)
  std::string config_id;                       // @id lines (keepalived -i; the CLI's default: the host name)
};

/// The TOML for `syn`; `interfaces_toml`: the --interfaces file's text. Without it, one placeholder
/// interface per name the config uses, on whose subnets every address lies (so that `vsrouter
/// check` tests everything else), or, with `placeholders` false, a comment saying which
/// [[interfaces]] the TOML needs (`vsrouter convert`).
Result<Translation> translate(const Syntax& syn, const std::optional<std::string>& interfaces_toml,
                              bool placeholders = true);

/// Reads keepalived.conf (and its includes) and the --interfaces file, translates and loads.
/// `out`, if given, receives the translation (for `vsrouter convert`, and the notes).
Result<std::shared_ptr<const config::Config>> load(const std::string& path, const LoadOptions& opt, Files& files,
                                                   Translation* out = nullptr);

/// The daemon's, replay's and check's loader: keepalived.conf or TOML, told apart by the text
/// (looks_like_keepalived). `notes` receives translate's notes.
Result<std::shared_ptr<const config::Config>> load_any(const std::string& path, const LoadOptions& opt,
                                                       std::vector<std::string>* notes = nullptr);

/// Whether `path` is read as keepalived.conf under `opt` (false also when it cannot be read).
bool is_keepalived(const std::string& path, const LoadOptions& opt);

}  // namespace vs::keepalived
