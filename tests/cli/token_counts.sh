#!/usr/bin/env bash
# token_counts.sh - the visual-token counts of spec §3.7 through the whole image path: a random
# checkpoint from `lladav synth` with the real 384/14 geometry (tiny widths so the tower is
# cheap) asked about images of the eight tabulated sizes; `ask --json` reports the image rows
# spliced into the prompt (issue 5).
set -u
source "$(dirname "$0")/lib.bash"
w="$LV_WORK"
py=/usr/bin/python3
"$py" -c 'import PIL' 2>/dev/null || { echo "SKIP: /usr/bin/python3 cannot import PIL (apt-get install python3-pil)"; exit 77; }

"$py" - "$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32/config.json" "$w/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["image_grid_pinpoints"] = "(1x1),...,(6x6)"          # the published LLaDA-V setting
c["vision_config"].update(image_size=384, patch_size=14, num_hidden_layers=1)
json.dump(c, open(sys.argv[2], "w"))
PY
expect 0 "" -- "$LLADAV" synth --config "$w/config.json" --dtype bf16 --seed 3 \
  --tokenizer "$LV_SOURCE_DIR/tests/fixtures/models/tiny-f32/tokenizer.json" --out "$w/m384"

for spec in 384x384:1485 640x480:2929 480x640:2943 768x768:3699 1024x768:3627 853x1280:3633 \
            1280x720:3649 1920x1080:3649; do
  size="${spec%%:*}" want="${spec##*:}"
  "$py" -c "from PIL import Image; W,H=map(int,'$size'.split('x')); Image.new('RGB',(W,H),(40,90,200)).save('$w/$size.png')"
  out="$("$LLADAV" ask --model "$w/m384" --json --gen-length 2 --steps 2 --quiet "$w/$size.png" "Describe." 2>&1)"
  got="$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["tokens"]["image"])' <<<"$out" 2>/dev/null)"
  ok "$size gives $want image tokens (got ${got:-none})" test "${got:-x}" = "$want"
done

finish
