#!/usr/bin/env bash
# `promtool check metrics` (Prometheus's own linter) on real scrapes of the metrics endpoint: the
# unit tests *.RealScrapeOverHttp serve an engine through MetricsServer (RenderTest: one that
# forwarded traffic; HealthRenderTest: one with health checkers), scrape it with gzip and write
# the decoded text to $VS_SCRAPE_DIR/NAME.txt. Exit 77 (ctest: skipped) only when promtool is not
# installed (Debian package `prometheus`, in scripts/setup); any finding fails.
set -u
UNIT=$1
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [[ -z $PROMTOOL ]]; then echo "SKIP: promtool not installed (apt-get install prometheus)"; exit 77; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/scrapes" || exit 1
if ! VS_SCRAPE_DIR=$tmp/scrapes "$UNIT" --gtest_filter='*.RealScrapeOverHttp' >"$tmp/log" 2>&1; then
  cat "$tmp/log"; echo "FAIL: a scrape test failed"; echo "0 passed, 1 failed"; exit 1
fi
status=0
for name in render health; do
  f=$tmp/scrapes/$name.txt
  if [[ ! -s $f ]]; then echo "FAIL: no $name scrape written"; status=1; continue; fi
  if ! out=$("$PROMTOOL" check metrics <"$f" 2>&1) || [[ -n $out ]]; then
    echo "FAIL: promtool check metrics ($name):"; echo "$out"; status=1; continue
  fi
  echo "promtool check metrics ($name): clean ($(grep -c '^# TYPE' "$f") families)"
done
if [[ $status -ne 0 ]]; then echo "0 passed, 1 failed"; exit 1; fi
echo "1 passed, 0 failed"
