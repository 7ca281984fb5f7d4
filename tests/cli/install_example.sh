#!/usr/bin/env bash
# install_example.sh - the embedding API as a user gets it: `cmake --install` into a prefix,
# samples/example/ask.c compiled against the installed lladav.pc, and its answer equal to
# `lladav ask` on the same model, image and question.
source "$(dirname "$0")/lib.bash"
build=$(dirname "$LLADAV")   # the build tree holding lladav (build/ or build/pipeline/)
[ -f "$build/CMakeCache.txt" ] || build=$(dirname "$build")
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "skipped: no CMake build tree above $LLADAV"; exit 77
fi
for tool in cmake pkg-config cc; do
  command -v $tool >/dev/null || { echo "skipped: $tool not found"; exit 77; }
done
prefix="$LV_WORK/prefix"
expect 0 "" -- cmake --install "$build" --prefix "$prefix"
pcdir=$(dirname "$(find "$prefix" -name lladav.pc | head -1)")
ok "lladav.pc installed" test -f "$pcdir/lladav.pc"
ok "lladav.h installed" test -f "$prefix/include/lladav/lladav.h"
export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046  # pkg-config output is a list of flags
expect 0 "" -- cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$LV_SOURCE_DIR/samples/example/ask.c" \
  $(pkg-config --cflags --libs lladav) -o "$LV_WORK/ask"
model="$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32"
img="$LV_SOURCE_DIR/tests/fixtures/images/wide_150x60.png"
"$LV_WORK/ask" "$model" "$img" "What is in the image?" 16 > "$LV_WORK/example.out" 2> "$LV_WORK/example.err"
ok "example exits 0" test $? -eq 0
"$LLADAV" ask -q --model "$model" --gen-length 16 "$img" "What is in the image?" > "$LV_WORK/cli.out"
ok "example answer = lladav ask" cmp -s "$LV_WORK/example.out" "$LV_WORK/cli.out"
ok "the answer is not empty" test "$(wc -c < "$LV_WORK/cli.out")" -gt 1
ok "example reports token counts" grep -q "image tokens" "$LV_WORK/example.err"
bundled="$prefix/share/lladav/models/$(bundled_model_name)"
if [ -f "$bundled/config.json" ]; then   # installed when samples/models/<that name> exists
  out=$(env -u LLADAV_MODEL "$prefix/bin/lladav" caption -q --gen-length 16 "$img")
  ok "installed lladav finds the installed bundled model" test -n "$out"
fi
expect 2 "missing.png" -- "$LV_WORK/ask" "$model" "$LV_WORK/missing.png" "What?"
finish
