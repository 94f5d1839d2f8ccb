#!/usr/bin/env bash
# `vsrouter convert` (docs/keepalived.md): a keepalived.conf printed as TOML loads as vsrouter's
# own config with the same start rules; without --interfaces the TOML says which interfaces it
# needs; a TOML file or a refused keepalived.conf is an error (exit 2).
# Usage: tests/keepalived/convert.sh VSROUTER
set -u
VSROUTER=$1
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
cat >"$W/keepalived.conf" <<'CONF'
! two directors' worth of keepalived.conf (tests/keepalived/convert.sh)
global_defs {
   router_id LVS_A
   lvs_sync_daemon lan VI_1 id 3
}
vrrp_instance VI_1 {
    state MASTER
    interface wan
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        10.0.0.100/24 dev wan
    }
}
virtual_server 10.0.0.100 80 {
    delay_loop 2
    lb_algo wrr
    persistence_timeout
    real_server 192.168.10.11 8080 {
        weight 3
        HTTP_GET {
            url {
              path /health
              status_code 200
            }
        }
    }
    real_server 192.168.10.12 8080 {
        weight 1
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
CONF
cat >"$W/interfaces.toml" <<'TOML'
[[interfaces]]
name = "wan"
mac = "02:00:00:00:00:01"
addresses = ["10.0.0.2/24"]

[[interfaces]]
name = "lan"
mac = "02:00:00:00:00:02"
addresses = ["192.168.10.2/24"]
TOML

# With --interfaces: a complete vsrouter config, the same rules as the keepalived.conf's.
if "$VSROUTER" convert "$W/keepalived.conf" --interfaces "$W/interfaces.toml" >"$W/out.toml" 2>"$W/err"; then ok
else bad "convert --interfaces: $(cat "$W/err")"; fi
grep -q "note: router_id has no effect" "$W/err" && ok || bad "no note for router_id on stderr: $(cat "$W/err")"
"$VSROUTER" check -c "$W/out.toml" >/dev/null 2>"$W/err" && ok || bad "converted TOML does not load: $(cat "$W/err")"
"$VSROUTER" check -c "$W/keepalived.conf" --interfaces "$W/interfaces.toml" --save >"$W/ka.rules" 2>/dev/null
"$VSROUTER" check -c "$W/out.toml" --save >"$W/toml.rules" 2>/dev/null
if [[ -s $W/ka.rules ]] && diff "$W/ka.rules" "$W/toml.rules" >/dev/null; then ok
else bad "rules differ: $(diff "$W/ka.rules" "$W/toml.rules")"; fi
grep -qx -- "-a -t 10.0.0.100:80 -r 192.168.10.11:8080 -m -w 3" "$W/ka.rules" && ok ||
  bad "expected the NAT real (keepalived's default lb_kind) with weight 3 in: $(cat "$W/ka.rules")"
# Without: the interfaces it needs, named in a comment; the rest as with them.
"$VSROUTER" convert "$W/keepalived.conf" >"$W/bare.toml" 2>/dev/null && ok || bad "convert without --interfaces failed"
line=$(grep '^# vsrouter.s own settings go here: \[\[interfaces\]\]' "$W/bare.toml")
[[ $line == *'"wan"'* && $line == *'"lan"'* ]] && ok ||
  bad "no comment naming the interfaces: $(head -3 "$W/bare.toml")"
grep -q '^\[\[interfaces\]\]' "$W/bare.toml" && bad "placeholder interfaces printed by convert" || ok
# Not a keepalived.conf, or a refused one: exit 2 with one line.
"$VSROUTER" convert "$W/out.toml" >/dev/null 2>"$W/err"; rc=$?
[[ $rc == 2 ]] && grep -q "is not a keepalived.conf" "$W/err" && ok || bad "convert of TOML: exit $rc, $(cat "$W/err")"
printf 'virtual_server 10.0.0.100 80 {\n  ha_suspend\n}\n' >"$W/bad.conf"
"$VSROUTER" convert "$W/bad.conf" >/dev/null 2>"$W/err"; rc=$?
[[ $rc == 2 ]] && grep -qx "$W/bad.conf:2:3: keyword not supported: ha_suspend (in virtual_server)" "$W/err" && ok ||
  bad "convert of a refused keyword: exit $rc, $(cat "$W/err")"
echo "$pass passed, $fail failed"
(( fail == 0 ))
