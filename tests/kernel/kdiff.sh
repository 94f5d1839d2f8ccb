#!/usr/bin/env bash
# ctest entry of the kernel-differential suite: kdiff.sh VSROUTER VSADM [SCENARIO...]
# Builds (or reuses) the VM assets, makes a network namespace of its own for the TAPs, runs
# kdiff.py in it, and removes the namespace (and whatever ran in it) on the way out. Fails loudly
# where no VM can start: this suite is never skipped.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Outside CI a machine that cannot run it skips (77); in CI that is a failure, said loudly.
cannot() {
  echo "kdiff.sh: $*: the kernel-differential suite cannot run here" >&2
  if [[ -n ${CI:-} ]]; then exit 1; else exit 77; fi
}
[[ $(id -u) -eq 0 ]] || cannot "not root (TAP devices, a network namespace)"
[[ -c /dev/net/tun ]] || cannot "/dev/net/tun is missing"
command -v qemu-system-x86_64 >/dev/null || cannot "qemu-system-x86_64 is missing (scripts/setup installs it)"
cache=$("$HERE/assets.sh" | tail -1)
ns=vsk-$$
cleanup() {
  local pid
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.2
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" /usr/bin/python3 "$HERE/kdiff.py" --cache "$cache" --vsrouter "$1" --vsadm "$2" "${@:3}"
