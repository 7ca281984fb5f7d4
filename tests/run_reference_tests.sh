#!/usr/bin/env bash
# The PyTorch reference's own suite. Needs Debian's python3-torch, which imports only under
# /usr/bin/python3; without it the test is reported as skipped (exit 77), and says why.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py=/usr/bin/python3
if ! "$py" -c 'import torch, numpy, PIL' 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 cannot import torch, numpy and PIL (apt-get install python3-torch python3-numpy python3-pil)"
  exit 77
fi
cd "$here/reference"
exec "$py" -m unittest -v test_reference
