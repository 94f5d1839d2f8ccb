#!/usr/bin/env bash
# The engine is sans-I/O: outside the adapters (src/replay, src/tap, src/cli) no code may read a
# clock, touch a socket or file descriptor, draw randomness or include libpcap/libuv.
set -u
SRC=$1
pattern='steady_clock|system_clock|high_resolution_clock|gettimeofday|clock_gettime|[^_a-z]time\(|uv_now|'
pattern+='random_device|[^_a-z]rand\(|srand|getrandom|/dev/urandom|<pcap|<uv\.h>|socket\(|[^_a-z]read\(|[^_a-z]write\(|ioctl|std::hash'
hits=$(grep -rnE "$pattern" "$SRC/src" --include='*.cpp' --include='*.hpp' \
       | grep -vE "^$SRC/src/(replay|tap|cli)/" | grep -vE '^\S+:[0-9]+:\s*//')
if [[ -n $hits ]]; then
  echo "FAIL: I/O, clock or randomness in the core:"; echo "$hits"; echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
