#!/bin/sh
# Writes the five static HTML reports from the bundled examples into /tmp/kensa-reports/ (or
# the folder given), to look at or screenshot. Not part of CI; run from the repository root
# after `cargo build`. KENSA may name another binary.
set -eu
out=${1:-/tmp/kensa-reports}
kensa=${KENSA:-target/debug/kensa}
mkdir -p "$out"
# Each command may exit 1 (records with findings, changed decisions): that is its answer, not a failure.
"$kensa" eval --today 2026-11-27 --format html examples/enrollment.jsonl > "$out/eval.html" || [ $? -eq 1 ]
"$kensa" dedup --today 2026-11-27 --format html examples/registry.jsonl > "$out/dedup.html" || [ $? -eq 1 ]
"$kensa" link --today 2026-11-27 --registry examples/registry.jsonl --format html examples/enrollment.jsonl > "$out/link.html" || [ $? -eq 1 ]
"$kensa" test --html "$out/test.html" tests/suites > /dev/null || [ $? -eq 1 ]
"$kensa" diff --today 2026-11-27 --base builtin --rules examples/overlay-foreign-residents \
    --expect examples/overlay-foreign-residents/intended.yaml --format html \
    examples/overlay-foreign-residents/records.jsonl > "$out/diff.html" || [ $? -eq 1 ]
ls -l "$out"
