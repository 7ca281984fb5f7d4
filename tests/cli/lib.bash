# lib.bash - helpers for the CLI tests in tests/cli/*.sh (sourced, not a test itself).
#   expect CODE FRAGMENT -- CMD...   run CMD, assert its exit code and that stderr+stdout
#                                    contain FRAGMENT ("" for any)
#   ok NAME CONDITION...             assert a shell condition (not CMD... negates)
#   finish                           print "N passed, N failed" and exit accordingly
#   bundled_model_name               LV_BUNDLED_MODEL of pipeline/lladav.h
: "${LLADAV:?set by ctest}" "${LV_SOURCE_DIR:?set by ctest}"
LV_WORK="${LV_WORK:-$(mktemp -d)}"
rm -rf "$LV_WORK" && mkdir -p "$LV_WORK"
lv_pass=0
lv_fail=0

expect() {
  local code="$1" frag="$2"; shift 3
  local out rc
  out="$("$@" 2>&1)"; rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL: exit $rc (expected $code): $*"; echo "$out" | head -5 | sed 's/^/    /'
    lv_fail=$((lv_fail + 1)); return 1
  fi
  if [ -n "$frag" ] && ! grep -qF -- "$frag" <<<"$out"; then
    echo "FAIL: output lacks '$frag': $*"; echo "$out" | head -5 | sed 's/^/    /'
    lv_fail=$((lv_fail + 1)); return 1
  fi
  lv_pass=$((lv_pass + 1))
}

not() { ! "$@"; }

ok() {
  local name="$1"; shift
  if "$@"; then lv_pass=$((lv_pass + 1)); else echo "FAIL: $name"; lv_fail=$((lv_fail + 1)); fi
}

finish() {
  echo "$lv_pass passed, $lv_fail failed"
  [ "$lv_fail" -eq 0 ]
}

# kill_after_lines FILE N CMD...: run CMD in the background, SIGKILL it as soon as FILE has N
# lines, wait for it; prints FILE's line count after the kill (or "done" when CMD ended first).
kill_after_lines() {
  local file="$1" n="$2"; shift 2
  "$@" >/dev/null 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -f "$file" ] && [ "$(wc -l < "$file")" -ge "$n" ]; then
      kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; wc -l < "$file"; return 0
    fi
    sleep 0.02
  done
  wait "$pid" 2>/dev/null; echo done
}

# The bundled model's name (LV_BUNDLED_MODEL in pipeline/lladav.h), so no test hard-codes it.
bundled_model_name() {
  sed -n 's/^#define LV_BUNDLED_MODEL "\(.*\)"$/\1/p' "$LV_SOURCE_DIR/pipeline/lladav.h"
}

