// gen_corpus.js - writes corpus.jsonl: one JSON string per line, the texts every tokenizer test
// encodes. Deterministic (seeded PRNG, fixed lists): rerunning gives the same file.
//   node tests/tokenizer/gen_corpus.js > tests/tokenizer/corpus.jsonl
"use strict";

let seed = 0x1adaf00d;
function rnd() {  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (n) => Math.floor(rnd() * n);

const prose = [
  "The quick brown fox jumps over the lazy dog.",
  "It was the best of times, it was the worst of times.",
  "Please describe the image in detail.",
  "What is in the image?",
  "I don't think they'll come; we're late and you've seen the traffic.",
  "SHE'S GONE. THEY'LL KNOW. I'D RATHER NOT.",
  "Hello, world!",
  "A diffusion language model denoises masked tokens over many steps.",
  "The mitochondria is the powerhouse of the cell.",
  "He said: \"Don't panic.\"",
  "e.g. i.e. etc. Mr. Smith vs. Dr. Jones",
  "You are a helpful language and vision assistant.",
  "Once upon a time, in a land far, far away...",
  "Answer with a single word.",
];
const code = [
  "int main(int argc, char **argv) {\n\treturn 0;\n}\n",
  "def f(x):\n    return x ** 2  # square\n",
  "for (size_t i = 0; i < n; i++) y[i] += a * x[i];",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "$ cmake -B build && cmake --build build -j2",
  "if (x != NULL && *x == '\\0') { /* empty */ }",
  "const re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)$/i;",
  "#include <stdio.h>\r\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\r\n",
  "    indented with four spaces\n        and eight",
  "https://example.com/path/to/page?query=1&lang=en#section-2",
  "x=1;y=2;z=x+y*3-4/5%6",
];
const numbers = [
  "0", "7", "42", "123", "1234", "12345", "1234567890", "3.14159", "-273.15", "1,234,567.89",
  "2026-11-27", "+1 (555) 012-3456", "10^9", "1e-5", "0xDEADBEEF", "٣٤٥", "١٢٣٤", "①②③", "Ⅻ", "½ ¾",
];
const scripts = [
  "中文分词测试：今天天气很好。", "我爱自然语言处理", "日本語のテキストです。カタカナとひらがな。",
  "한국어 문장입니다.", "مرحبا بالعالم، هذا نص عربي.", "שלום עולם", "Привет, мир! Съешь же ещё этих мягких булок.",
  "Γειά σου Κόσμε", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Tiếng Việt có dấu", "Ελληνικά και ελληνικά",
  "Zażółć gęślą jaźń", "Füße, Straße, Mädchen", "naïve café résumé coöperate", "ÅÄÖ åäö Øø Ææ",
];
const accents = [
  "e\u0301", "cafe\u0301", "A\u030A", "n\u0303o", "\u1E9B\u0323", "Ω and \u2126", "ﬁ ligature ﬂ",
  "ｆｕｌｌｗｉｄｔｈ", "\u0130stanbul", "ß ẞ", "K (Kelvin \u212A)", "\u0041\u030A\u0301",
];
const emoji = [
  "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🤖 robots", "🚀🚀🚀", "✨new✨", "🏳️‍🌈", "😀😃😄😁",
];
const spaces = [
  " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\n \n", " \t \n", "\u00A0", "\u2003", "\u3000",
  "\u0085", "\u2028", "\u200B", "\uFEFF", "\u000B", "\f",
];
const specials = [
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|begin_of_text|>",
  "<|start_header_id|>", "<|end_header_id|>", "<s>", "</s>", "<unk>", "<|startoftext|>",
  "<|mdm_mask|>", "<image>", "[CLS]", "<|endof", "endoftext|>", "<|", "|>", "<|reserved_token_5|>",
  "<|reserved_special_token_3|>", "<think>", "</think>",
];

const out = [];
const base = [].concat(prose, code, numbers, scripts, accents, emoji, spaces, specials);
for (const s of base) out.push(s);
out.push("");
out.push("a".repeat(300));
out.push("ab".repeat(500));
out.push("supercalifragilisticexpialidocious antidisestablishmentarianism");
out.push("x".repeat(40) + " " + "y".repeat(41));
out.push(" leading space");
out.push("trailing space ");
out.push("  two leading and two trailing  ");
out.push("\n\n\nthree newlines first");
out.push("line one\nline two\n\nline four\n");
out.push("tabs\tbetween\twords\t\tand\t\t\tmore");
out.push("CRLF line\r\nanother\r\n\r\nend");
out.push("mixed  \t \n  whitespace \u00A0 run");
out.push("<|eot_id|><|eot_id|>");
out.push("<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
out.push("<|startoftext|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>");
out.push("<image>\nPlease describe the image in detail.");
out.push("text<s>more</s> and <unk> tokens");
out.push(" <|endoftext|> spaced special ");
out.push("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n");
out.push("'s 't 're 've 'm 'll 'd 'S 'T 'RE");
out.push("it's it’s it‘s");
out.push("!!!???...,,,;;;:::");
out.push("((([[[{{{}}}]]])))");

const frags = [].concat(prose, code, numbers, scripts, accents, emoji, spaces, specials, spaces, numbers);
const seps = ["", " ", "  ", "\n", "\t", "", " ", "\n\n", "\u00A0", ", "];
while (out.length < 560) {
  const k = 1 + int(6);
  let s = "";
  for (let i = 0; i < k; i++) s += (i ? pick(seps) : "") + pick(frags);
  if (rnd() < 0.1) s = s.toUpperCase();
  if (rnd() < 0.05) s = s.repeat(1 + int(4));
  out.push(s);
}
// random code points from mixed blocks, including rare scripts
const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff],
  [0x900, 0x97f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f64f],
  [0x2000, 0x206f], [0x10000, 0x1007f], [0x1d400, 0x1d4ff]];
for (let i = 0; i < 40; i++) {
  let s = "";
  const n = 1 + int(30);
  for (let k = 0; k < n; k++) {
    const r = pick(ranges);
    let cp = r[0] + int(r[1] - r[0] + 1);
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
    s += String.fromCodePoint(cp);
  }
  out.push(s);
}
for (const s of out) process.stdout.write(JSON.stringify(s) + "\n");
