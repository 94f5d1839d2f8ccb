#!/usr/bin/env bash
# vsadm is a thin client: it must link only the client library (ctl/protocol.hpp,
# ctl/restore_line.hpp), never the engine, the director or libuv/libpcap. Fails if `ldd` shows
# libuv or libpcap, or if `nm -C` finds engine symbols (vs::Engine, vs::ipvs::, vs::ctl::execute).
set -u
VSADM=$1
fail=0
deps=$(ldd "$VSADM") || { echo "FAIL: ldd $VSADM failed"; echo "0 passed, 1 failed"; exit 1; }
if bad=$(grep -E 'libuv|libpcap' <<<"$deps"); then
  echo "FAIL: vsadm links an adapter library:"; echo "$bad"; fail=1
fi
syms=$(nm -C "$VSADM") || { echo "FAIL: nm $VSADM failed"; echo "0 passed, 1 failed"; exit 1; }
if bad=$(grep -E 'vs::Engine|vs::ipvs::|vs::ctl::execute|vs::ctl::ipvsadm::' <<<"$syms" | head -5); [[ -n $bad ]]; then
  echo "FAIL: vsadm holds engine or ipvsadm symbols, e.g.:"; echo "$bad"; fail=1
fi
if [[ $fail -ne 0 ]]; then echo "0 passed, 1 failed"; exit 1; fi
echo "1 passed, 0 failed"
