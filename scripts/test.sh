#!/usr/bin/env bash
# Runs the whole test suite: unit, protocol cross-check, fuzz-corpus replay, runner, integration and security
# tests, first on the normal build, then on an ASan+UBSan build. Exit status is non-zero if anything fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

echo "== build (RelWithDebInfo) and test"
cmake --build "$here/build" -j"$jobs"
(cd "$here/build" && ctest --output-on-failure --timeout 900)

# A small quarantine keeps freed memory reusable, so the RSS bounds the tests assert mean the same as in the
# normal build (ASan would otherwise hold up to 256 MiB of freed blocks).
echo "== build (ASan+UBSan) and test"
cmake -S "$here" -B "$here/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
cmake --build "$here/build-asan" -j"$jobs"
(cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=8 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure --timeout 900)
echo "== all tests passed"
