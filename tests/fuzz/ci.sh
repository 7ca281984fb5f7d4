#!/usr/bin/env bash
# ci.sh - the CI fuzz step (.ci/run): build the libFuzzer targets with clang and fuzz each for
# LV_FUZZ_RUNS (default 20000) executions from seed 1; any crash, leak, timeout or OOM fails the step and
# prints the reproducer path. Installs clang's fuzzer runtime and OpenMP when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs=(clang libclang-rt-14-dev libomp-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
build="${LV_FUZZ_BUILD:-build-fuzz}"
# -Werror stays with the gcc builds: a clang-only warning must not hide the fuzz results
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLV_FUZZ=ON -DLV_WERROR=OFF
cmake --build "$build" -j2 --target fuzz
rm -rf "$build/fuzz-work"
# A fixed number of runs from a fixed seed: deterministic, so CI never fails on an input nobody
# has seen; longer open-ended campaigns use tests/fuzz/run.sh BUILD SECONDS.
LV_FUZZ_RUNS="${LV_FUZZ_RUNS:-20000}" bash tests/fuzz/run.sh "$build" "${LV_FUZZ_SECONDS:-20}"
