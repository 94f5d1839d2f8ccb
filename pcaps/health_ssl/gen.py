#!/usr/bin/python3
"""Inputs of the SSL_GET health case: the hosts' answers come from simnet (pcaps/_lib/simnet.py),
which replays the case until they agree with the probes vsrouter sends. check.py asserts what
vsrouter must do, from keepalived's rules (check_ssl.c: HTTP_GET's rules over TLS).

wan: 203.0.113.1/24 (02:00:00:00:00:01), VIP 203.0.113.100:443 (rr): no client traffic.
lan: 10.1.0.1/24 (02:00:00:00:00:02); NAT reals A = 10.1.0.11:443 (02:00:00:00:aa:11) and
     B = 10.1.0.12:443 (02:00:00:00:aa:12). Each real has one SSL_GET on /health: A passes on
     status 200, B needs the MD5 digest of the healthy body (and a status 200-299).
     delay_loop 1, connect_timeout 1, retry 0 (down at the first failure), rise 2, warmup 0 (the
     first probes leave at t=0, the replay's --start).

Each real is a TLS server (simnet.tls_server: Python's ssl, OpenSSL, with the certificate and
key real.crt and real.key of this directory, made once with `openssl req -x509 -newkey ec -pkeyopt
ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=real`; a test key that protects
nothing). A probe is four flights, each 200 µs (simnet.DELAY_US) after the one it answers:
  SYN                                    -> SYN-ACK
  ClientHello (with the handshake's ACK) -> ServerHello .. Finished (TLS 1.3)
  client Finished and the request        -> two session tickets, the response, close_notify, FIN
and our side judges the response and resets the connection: 600 µs a probe. A server without its
certificate answers the ClientHello with OpenSSL's handshake_failure alert and a FIN: 400 µs.
Times are seconds after T0; a probe starts delay_loop after the previous one's verdict.
  t=0       the router ARPs for A and B, answered; the first probes: 200 "healthy", ok.
  A         healthy throughout: a good probe about every second.
  B         by the time the request (or the ClientHello) arrives:
              before 2.9     200 with the healthy body                     ok
              2.9 .. 5.9     503 (with the healthy body)                   status: ~3 down, ~4, ~5 fail
              5.9 .. 8.9     healthy                                       ~6 ok, ~7 ok: up (rise 2), ~8 ok
              8.9 .. 10.9    no certificate (a failed renewal): the alert  tls: ~9 down, ~10 fails
              from 10.9      healthy                                       ~11 ok, ~12 ok: up, ~13 ok
The replay ends at t=14 (args, written by simnet: --start T0 --advance up to t=14).

The TLS servers' random bytes follow from each connection and what the client sent on it
(simnet.tls_server), so running this again writes the same in/ byte for byte. vsrouter's own
random bytes (ClientHello, key share) come from router.seed. The handshakes are OpenSSL 3.0's
(Debian 12): another OpenSSL makes another ClientHello, which the recorded ServerHellos do not
answer (the case then fails at the first handshake: re-run this script, then golden.py --update).
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "_lib"))
from vsfix import Trace  # noqa: E402
from simnet import NO_CERTIFICATE, Net, always, http_request_done, phases, tls_server  # noqa: E402
# The topology all health cases share (pcaps/_lib/health_case.py); check.py reads it as g.*.
from health_case import LAN_IP, R_LAN, T0, VIP, converge, http_answers  # noqa: E402,F401

VPORT = 443
A, A_MAC = "10.1.0.11", "02:00:00:00:aa:11"
B, B_MAC = "10.1.0.12", "02:00:00:00:aa:12"
RPORT = 443
PATH = "/health"
END = 14.0
CERT, KEY = os.path.join(HERE, "real.crt"), os.path.join(HERE, "real.key")

HEALTHY = b"healthy\n"
DIGEST = hashlib.md5(HEALTHY).hexdigest()  # B's url digest in vsrouter.toml
DELAY_LOOP, CONNECT_TIMEOUT, RETRY, RISE = 1.0, 1.0, 0, 2

# Each real's TLS server as a function of time: "ok" (its certificate and key) or "no certificate".
A_TLS = always("ok")
B_TLS = phases("ok", 8.9, "no certificate", 10.9, "ok")
# What each real answers to GET /health, as a function of time: (status, body).
A_ANSWER = always((200, HEALTHY))
B_ANSWER = phases((200, HEALTHY), 2.9, (503, HEALTHY), 5.9, (200, HEALTHY))


def server(tls, answer):
    def certificate(t):
        return (CERT, KEY) if tls(t) == "ok" else NO_CERTIFICATE

    answers = http_answers(answer)

    def respond(request, t):
        return answers(request, t) if http_request_done(request) else None
    return tls_server(certificate, respond)


def network():
    net = Net(HERE, T0, END)
    net.host("lan", A, A_MAC).tcp(RPORT, always("listen")).session(RPORT, server(A_TLS, A_ANSWER))
    net.host("lan", B, B_MAC).tcp(RPORT, always("listen")).session(RPORT, server(B_TLS, B_ANSWER))
    return net


def build():
    converge(network(), Trace(HERE))


if __name__ == "__main__":
    build()
