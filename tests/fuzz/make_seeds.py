#!/usr/bin/python3
"""make_seeds.py - (re)build the seed corpora of tests/fuzz/corpus/<target>/ from the small
valid files of tests/fixtures, tests/vision and tests/eval plus hand-made edge cases. Files that
fuzzing added later (crash reproducers, interesting inputs: names without the seed_ prefix) are
kept. Run from anywhere: /usr/bin/python3 tests/fuzz/make_seeds.py"""
import base64, glob, json, os, struct, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests/fuzz/corpus")


def rd(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def png(w, h, color_type=2, depth=8, rows=None, interlace=0, chunks=()):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    if rows is None:
        rowlen = (w * ch * depth + 7) // 8
        rows = b"".join(b"\0" + bytes((x * 7 + y) & 255 for x in range(rowlen)) for y in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    for t, d in chunks:
        out += chunk(t, d)
    return out + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def image():
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/vision/decode/*"))):
        if not p.endswith(".rgb") and os.path.getsize(p) < 4096:
            put("image", os.path.basename(p), rd(p))
    for n in ("tiny_9x7_gray.png", "tall_50x130.jpg"):
        put("image", n, rd("tests/fixtures/images/" + n))
    small = png(3, 2)
    put("image", "rgb_3x2.png", small)
    put("image", "palette.png", png(4, 4, 3, 8, chunks=[(b"PLTE", bytes(range(12)))],
                                    rows=b"".join(b"\0" + bytes([0, 1, 2, 3]) for _ in range(4))))
    put("image", "palette_no_plte.png", png(4, 4, 3, 8, rows=b"\0" * 20))
    put("image", "zero_width.png", png(0, 5, rows=b""))
    put("image", "bomb_100000x100000.png", png(100000, 100000, rows=b"\0" * 100))
    put("image", "wide_20000x1.png", png(20000, 1, rows=b"\0" * 60001))
    put("image", "truncated.png", small[: len(small) // 2])
    put("image", "bad_crc.png", small[:20] + b"\xff" + small[21:])
    put("image", "short_idat.png", png(8, 8, rows=b"\0" * 10))
    put("image", "interlaced.png", png(5, 5, 6, 16, interlace=1))
    jpg = rd("tests/vision/decode/baseline.jpg")
    put("image", "truncated.jpg", jpg[: len(jpg) // 2])
    put("image", "soi_only.jpg", b"\xff\xd8\xff")
    put("image", "garbage_after_soi.jpg", b"\xff\xd8" + bytes(range(256)))
    put("image", "b64_png.txt", "data:image/png;base64," + base64.b64encode(small).decode())
    put("image", "b64_bad.txt", "iVBORw0KGgo===x")
    put("image", "empty", b"")
    put("image", "gif_magic", b"GIF89a\x01\x00\x01\x00")


def st_file(tensors, meta=None, header=None, pad=b""):
    h = {}
    if meta is not None:
        h["__metadata__"] = meta
    data = b""
    for name, dt, shape, raw in tensors:
        h[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    hj = header if header is not None else json.dumps(h).encode()
    return struct.pack("<Q", len(hj)) + hj + pad + data


def safetensors():
    f = struct.pack("<4f", 1, -2, 3.5, float("nan"))
    put("safetensors", "valid_f32.st", st_file([("a", "F32", [2, 2], f)], {"format": "pt"}))
    put("safetensors", "valid_mixed.st", st_file([("b", "BF16", [3], b"\x80\x3f" * 3),
                                                  ("h", "F16", [1, 2], b"\x00\x3c\x00\xc0"),
                                                  ("i", "I32", [1], b"\x07\0\0\0"),
                                                  ("s", "F32", [], b"\0\0\x80\x3f"),
                                                  ("z", "F32", [0, 4], b"")]))
    put("safetensors", "lying_len.st", struct.pack("<Q", 1 << 40) + b"{}")
    put("safetensors", "len_past_end.st", struct.pack("<Q", 100) + b'{"a":1}')
    put("safetensors", "short.st", b"\x08\0\0")
    put("safetensors", "bad_dtype.st", st_file([("a", "F64", [1], b"\0" * 8)]))
    put("safetensors", "shape_mismatch.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', pad=b"\0" * 8))
    put("safetensors", "overlap.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', pad=b"\0" * 12))
    put("safetensors", "offset_past_end.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[1000,1004]}}'))
    put("safetensors", "negative_dim.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}', pad=b"\0" * 16))
    put("safetensors", "huge_dims.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}'))
    put("safetensors", "nine_dims.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}}', pad=b"\0" * 4))
    put("safetensors", "dup_key.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', pad=b"\0" * 4))
    put("safetensors", "not_object.st", st_file([], header=b'[1,2,3]'))
    put("safetensors", "meta_nonstring.st", st_file([], header=b'{"__metadata__":{"k":5}}'))
    put("safetensors", "header_nul.st", st_file([], header=b'{"a\\u0000b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', pad=b"\0" * 4))
    put("safetensors", "gap.st", st_file([], header=b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', pad=b"\0" * 8))
    put("safetensors", "empty", b"")


def st_index():
    def idx(wm, meta=True):
        d = {"weight_map": wm}
        if meta:
            d["metadata"] = {"total_size": 28}
        return json.dumps(d, indent=1)
    put("st_index", "valid.json", idx({"x": "a.safetensors", "y": "a.safetensors", "z": "b.safetensors"}))
    put("st_index", "partial.json", idx({"x": "a.safetensors"}, meta=False))
    put("st_index", "missing_shard.json", idx({"x": "c.safetensors"}))
    put("st_index", "wrong_shard.json", idx({"x": "b.safetensors", "z": "b.safetensors"}))
    put("st_index", "escape.json", idx({"x": "../a.safetensors"}))
    put("st_index", "absolute.json", idx({"x": "/etc/passwd"}))
    put("st_index", "nonstring.json", '{"weight_map": {"x": 5}}')
    put("st_index", "no_map.json", '{"metadata": {}}')
    put("st_index", "empty_map.json", '{"weight_map": {}}')
    put("st_index", "truncated.json", idx({"x": "a.safetensors"})[:20])
    put("st_index", "self.json", idx({"x": "model.safetensors.index.json"}))


def config():
    for p in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/models/*/config.json"))):
        put("config", os.path.basename(os.path.dirname(p)) + ".json", rd(p))
    base = json.loads(rd("tests/fixtures/models/tiny-f32/config.json"))
    def var(name, **kw):
        c = dict(base)
        for k, v in kw.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        put("config", name + ".json", json.dumps(c))
    var("pinpoints_list", image_grid_pinpoints=[[56, 56], [112, 56], [56, 112]])
    var("pinpoints_range_big", image_grid_pinpoints="(1x1),...,(9x9)")
    var("pad", image_aspect_ratio="pad", mm_patch_merge_type="flat")
    var("square", image_aspect_ratio="square")
    var("anyres_plain", image_aspect_ratio="anyres")
    var("heads_zero", num_attention_heads=0)
    var("huge_layers", num_hidden_layers=2147483647)
    var("neg_vocab", vocab_size=-1)
    var("no_vision", vision_config=None, mm_hidden_size=None, mm_projector_type=None)
    var("patch_big", vision_config=dict(base["vision_config"], patch_size=100))
    var("string_dims", hidden_size="64")
    put("config", "truncated.json", rd("tests/fixtures/models/tiny-f32/config.json")[:300])
    put("config", "empty_object.json", "{}")
    put("config", "array.json", "[]")


def tokenizer():
    tj = rd("tests/fixtures/models/tiny-f32/tokenizer.json")
    put("tokenizer_load", "tiny-f32.json", tj)
    put("tokenizer_load", "tiny-bf16-sharded.json", rd("tests/fixtures/models/tiny-bf16-sharded/tokenizer.json"))
    t = json.loads(tj)
    def var(name, f):
        c = json.loads(tj)
        f(c)
        put("tokenizer_load", name + ".json", json.dumps(c))
    var("wordpiece", lambda c: c["model"].__setitem__("type", "WordPiece"))
    var("unigram", lambda c: c["model"].__setitem__("type", "Unigram"))
    var("merges_pairs", lambda c: c["model"].__setitem__("merges", [m.split(" ") if isinstance(m, str) else m for m in c["model"]["merges"]]))
    var("merges_unknown", lambda c: c["model"].__setitem__("merges", ["zz qq", "a"]))
    var("merges_cyclic", lambda c: c["model"].__setitem__("merges", ["a b", "ab a", "a ab", "ab ab"]))
    var("byte_fallback", lambda c: c["model"].__setitem__("byte_fallback", True))
    var("no_pre", lambda c: c.__setitem__("pre_tokenizer", None))
    var("split_regex", lambda c: c.__setitem__("pre_tokenizer", {"type": "Split", "pattern": {"Regex": "(?i:'s|'t)|\\p{L}+|\\d{1,3}| ?[^\\s\\p{L}\\p{N}]+"}, "behavior": "Isolated", "invert": False}))
    var("bad_regex", lambda c: c.__setitem__("pre_tokenizer", {"type": "Split", "pattern": {"Regex": "(("}, "behavior": "Isolated", "invert": False}))
    var("metaspace", lambda c: (c.__setitem__("pre_tokenizer", {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}),
                                c.__setitem__("decoder", {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True})))
    var("normalizers", lambda c: c.__setitem__("normalizer", {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}))
    var("decoders", lambda c: c.__setitem__("decoder", {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}))
    var("id_collision", lambda c: c["added_tokens"][0].__setitem__("id", 0))
    var("huge_id", lambda c: c["added_tokens"][0].__setitem__("id", 2147483647))
    var("unknown_normalizer", lambda c: c.__setitem__("normalizer", {"type": "BertNormalizer"}))
    put("tokenizer_load", "truncated.json", tj[:1000])
    put("tokenizer_load", "empty_object.json", "{}")

    lines = [l for l in rd("tests/tokenizer/corpus.jsonl").decode().split("\n") if l]
    for i in (0, 3, 4, 7, 20, 50, 100, 200, 300, 400, 500, 599):
        if i < len(lines):
            put("tokenizer", "corpus_%03d.txt" % i, json.loads(lines[i]))
    for name, s in [("specials", b"<|startoftext|>hi<|endoftext|> [CLS]"), ("invalid_utf8", b"ab\xff\xfe cd"),
                    ("truncated_utf8", b"caf\xc3"), ("overlong", b"\xc0\xaf\xe0\x80\xaf"), ("surrogate", b"\xed\xa0\x80"),
                    ("nul", b"a\0b"), ("spaces", b"   \t\n\n  x  "), ("digits", b"1234567890 3.14159"),
                    ("cjk_emoji", "中文 日本語 \U0001F600 e\u0301".encode()), ("empty", b""),
                    ("ids_big", struct.pack("<8H", 0, 1, 383, 384, 385, 399, 415, 65535))]:
        put("tokenizer", name, s)

    for name, s in [("zero_images", b"\x00What is in the image?"), ("one_image", b"\x01Describe it."),
                    ("placeholder", b"\x01<image>\nWhat is this?"), ("two_placeholders", b"\x02<image> and <image>"),
                    ("count_mismatch", b"\x01<image><image>"), ("placeholder_no_image", b"\x00<image>"),
                    ("template_tokens", b"\x00<|start_header_id|>user<|end_header_id|><|eot_id|>"),
                    ("spaces_only", b"\x01   \n\t "), ("empty", b"\x00"), ("partial_placeholder", b"\x01<imag <image <image>>"),
                    ("invalid_utf8", b"\x01\xff<image>\xfe"), ("nul_inside", b"\x00abc\x00<image>")]:
        put("prompt", name, s)


def bench():
    def sel(k, rel):
        return bytes([k]) + rd(rel)
    put("bench", "native.bin", sel(0, "tests/eval/native/questions.jsonl"))
    put("bench", "native_manifest.bin", bytes([0]) + rd("tests/eval/native/benchmark.json") + b"\n--8<--\n" + rd("tests/eval/native/questions.jsonl"))
    put("bench", "llava.bin", sel(1, "tests/eval/llava_questions.jsonl"))
    put("bench", "pope.bin", sel(2, "tests/eval/pope/coco_pope_random.json"))
    put("bench", "mme_txt.bin", sel(3, "tests/eval/mme_txt/existence.txt"))
    put("bench", "mme.bin", sel(4, "tests/eval/mme/MME_Benchmark/existence/000000006040.txt"))
    put("bench", "mmbench.bin", sel(5, "tests/eval/mmbench_dev.tsv"))
    put("bench", "vqav2.bin", bytes([6]) + rd("tests/eval/vqav2/v2_OpenEnded_mscoco_val2014_questions.json") + b"\n--8<--\n" + rd("tests/eval/vqav2/v2_mscoco_val2014_annotations.json"))
    put("bench", "textvqa.bin", sel(6, "tests/eval/textvqa_val.json"))
    put("bench", "coco.bin", sel(6, "tests/eval/coco/captions_val2014.json"))
    put("bench", "karpathy.bin", sel(7, "tests/eval/coco/dataset_coco.json"))
    for name, k, s in [("native_bad_lines", 0, b'{"id": "a", "question": "q"\n\n[1,2]\n{"id": 5}\n{"id":"x","image":"../etc/passwd","question":"q","answer":"a"}\n{"id":"x","image":"/abs.png","question":"q","answer":"a"}\n'),
                       ("native_dup_ids", 0, b'{"id":"a","question":"q","type":"yesno","answer":"yes"}\n{"id":"a","question":"q","type":"yesno","answer":"yes"}\n'),
                       ("native_crlf_no_nl", 0, b'{"id":"a","question":"q","type":"free"}\r\n{"id":"b","question":"q","type":"mc","choices":["x","y"],"answer":"z"}'),
                       ("native_long_line", 0, b'{"id":"a","question":"' + b"x" * 70000 + b'"}\n'),
                       ("native_bad_manifest", 0, b'{"templates": 5, "generation": {"open": {"gen_length": -1}}}\n--8<--\n{"id":"a","question":"q"}\n'),
                       ("mmbench_quotes", 5, b'index\tquestion\tA\tB\tanswer\timage\n1\t"unterminated\tx\ty\tA\t!!!\n2\tq\tx\ty\tC\t3\n'),
                       ("mmbench_bad_b64", 5, b'index\tquestion\tA\tB\tanswer\timage\n1\tq\tx\ty\tA\t@@@@\n'),
                       ("mme_txt_short", 3, b'a.png\tq\n\tq\tYes\tNo\n'),
                       ("pope_bad", 2, b'{"question_id": 1, "image": "a.jpg", "text": "q", "label": "maybe"}\n{"label":"yes"}\n'),
                       ("json_unknown", 6, b'{"foo": []}'),
                       ("karpathy_nosplit", 7, b'{"images": [{"filename": "a.jpg", "split": "val", "sentences": []}]}')]:
        put("bench", name, bytes([k]) + s)


def diffusion():
    def p(sampler=0, steps=8, gen=8, block=4, temp=0, cfg=0, remask=0, seed=1, mask=9, vocab=10, flags=0, eos=0, eot=0, bans=(), stops=(), suffix=()):
        b = struct.pack("<BhhhBBBBhhBBB", sampler, steps, gen, block, temp, cfg, remask, seed, mask, vocab, flags, eos, eot)
        b += bytes([len(bans), len(stops), len(suffix)])
        b += b"".join(struct.pack("<h", x) for x in bans) + b"".join(struct.pack("<h", x) for x in suffix)
        for s in stops:
            b += bytes([len(s)]) + b"".join(struct.pack("<h", x) for x in s)
        return b
    put("diffusion", "default", p())
    put("diffusion", "temperature", p(temp=16, seed=3))
    put("diffusion", "cfg", p(cfg=8))
    put("diffusion", "random_remask", p(remask=1))
    put("diffusion", "bans_stops_suffix", p(bans=[1, 2], stops=[[3], [4, 5]], suffix=[6, 7]))
    put("diffusion", "text_sampler", p(sampler=1, flags=3, eos=3, eot=4))
    put("diffusion", "steps_gt_gen", p(steps=16, gen=8, block=8))
    put("diffusion", "block_not_divisor", p(gen=8, block=3))
    put("diffusion", "zero_gen", p(gen=0))
    put("diffusion", "neg_steps", p(steps=-4))
    put("diffusion", "nan_temp", p(temp=255))
    put("diffusion", "inf_cfg", p(cfg=254))
    put("diffusion", "ban_out_of_vocab", p(bans=[10]))
    put("diffusion", "empty_stop", p(stops=[[]]))
    put("diffusion", "mask_unset", p(mask=-1))
    put("diffusion", "one_token", p(steps=1, gen=1, block=1, vocab=1, mask=0))
    put("diffusion", "big", p(steps=32, gen=64, block=16, vocab=64, mask=63))
    put("diffusion", "empty", b"")


def preds():
    def line(i, out=None, err=None, **kw):
        d = {"id": i}
        if out is not None:
            d["output"] = out
        if err is not None:
            d["error"] = err
        d.update(kw)
        return json.dumps(d) + "\n"
    put("preds", "native.jsonl", "".join([line("yn1", "Yes, it is."), line("yn2", "no"), line("mc1", "The answer is (B) blue."),
                                          line("7", "two"), line("cap1", "A red square on a white background."),
                                          line("free1", "anything"), line("alias1", "YES"), line("anls1", "hello wrld"),
                                          line("esc1", "<script>alert(1)</script> & \"q\""), line("mcbad", "E"),
                                          line("line:10", None, "generation failed: out of memory", time_ms=12.5, gen={"gen_length": 8})]))
    put("preds", "mme.jsonl", "".join(line("existence/000000006040/%d" % k, o) for k, o in ((0, "Yes"), (1, "No.")))
        + line("code_reasoning/0001/0", "yes no") + line("code_reasoning/0001/1", ""))
    put("preds", "pope.jsonl", "".join(line(str(k), o) for k, o in ((1, "yes"), (2, "No, there is not."), (3, "maybe"), (4, "YES!"))))
    put("preds", "mmbench.jsonl", "".join(line(k, o) for k, o in (("1", "B"), ("1000001", "A. dog"), ("2000001", "D"), ("3000001", "(C)"), ("2", "yes"), ("3", ""), ("4", "Z"))))
    put("preds", "vqa_coco.jsonl", "".join(line(k, o) for k, o in (("420", "2"), ("421", "Two dogs"), ("422", "yes"), ("42", "a cat sitting on a mat"), ("310196", ""))))
    put("preds", "truncated_last.jsonl", line("yn1", "yes") + '{"id": "yn2", "outp')
    put("preds", "bad_middle.jsonl", line("yn1", "yes") + "[1, 2]\n" + line("yn2", "no"))
    put("preds", "dup_ids.jsonl", line("yn1", "yes") + line("yn1", "no"))
    put("preds", "nonstring.jsonl", '{"id": 5, "output": ["a"]}\n{"id": "yn1", "output": null, "time_ms": "x"}\n')
    put("preds", "empty", "")
    put("preds", "invalid_utf8.jsonl", b'{"id": "yn1", "output": "\xff\xfe yes"}\n')


if __name__ == "__main__":
    for t in (image, safetensors, st_index, config, tokenizer, bench, diffusion, preds):
        t()
