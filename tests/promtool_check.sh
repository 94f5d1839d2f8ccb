#!/usr/bin/env bash
# `promtool check metrics` (Prometheus's own linter) on a real scrape of the metrics endpoint: the
# unit test RenderTest.RealScrapeOverHttp serves a fed engine through MetricsServer, scrapes it
# with gzip and writes the decoded text to $VS_SCRAPE_FILE. Exit 77 (ctest: skipped) only when
# promtool is not installed (Debian package `prometheus`, in scripts/setup); any finding fails.
set -u
UNIT=$1
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [[ -z $PROMTOOL ]]; then echo "SKIP: promtool not installed (apt-get install prometheus)"; exit 77; fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if ! VS_SCRAPE_FILE=$tmp/scrape.txt "$UNIT" --gtest_filter=RenderTest.RealScrapeOverHttp >"$tmp/log" 2>&1; then
  cat "$tmp/log"; echo "FAIL: the scrape test failed"; echo "0 passed, 1 failed"; exit 1
fi
[[ -s $tmp/scrape.txt ]] || { echo "FAIL: no scrape written"; echo "0 passed, 1 failed"; exit 1; }
if ! out=$("$PROMTOOL" check metrics <"$tmp/scrape.txt" 2>&1) || [[ -n $out ]]; then
  echo "FAIL: promtool check metrics:"; echo "$out"; echo "0 passed, 1 failed"; exit 1
fi
echo "promtool check metrics: clean ($(grep -c '^# TYPE' "$tmp/scrape.txt") families)"
echo "1 passed, 0 failed"
