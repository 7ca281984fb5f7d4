#!/bin/sh
# regen.sh - rebuild every fixture under tests/fixtures from scratch (tiny models, images,
# reference dumps + sidecars). Deterministic: running it twice gives byte-identical files;
# the last line is a digest over all fixture files to compare runs.
# Needs /usr/bin/python3 with torch, numpy, PIL, and node (the HF tokenizer binding is
# installed from package-lock.json into tests/reference/node_modules if missing).
set -eu
cd "$(dirname "$0")"
PY=${LLADAV_PYTHON:-/usr/bin/python3}
if [ ! -d node_modules/@anush008/tokenizers ]; then
    npm ci --no-audit --no-fund
fi
rm -rf ../fixtures/models ../fixtures/images ../fixtures/ref ../fixtures/tokenizer
"$PY" make_tiny.py ../fixtures
"$PY" make_fixtures.py
"$PY" make_tok_fixtures.py
(cd ../fixtures && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | sed 's/ .*/  fixtures digest/')
