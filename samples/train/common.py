"""common.py - shared pieces of the shapes-model training and evaluation.

Everything model-related is imported from the fp32 PyTorch reference in tests/reference/
(lladav_ref: preprocessing, SigLIP, projector, merge, chat template, tokenizer_image_token,
LLaDA forward, generate_with_embeds; make_tiny: BPE trainer, tokenizer.json/config writers,
model-directory writer; st_io: safetensors), so the trained model is by construction the
function the reference -- and therefore the C runtime -- computes.
"""
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
REF = os.path.join(REPO, "tests", "reference")
sys.path.insert(0, REF)
sys.path.insert(0, HERE)

import lladav_ref as R  # noqa: E402,F401
import make_tiny as MT  # noqa: E402,F401
import st_io  # noqa: E402,F401
from hf_tok import HFTokenizer, run_ops  # noqa: E402,F401


class CachedTokenizer:
    """Drop-in for hf_tok.HFTokenizer.encode_many/decode_many that answers from a cache filled
    by one batched call to the real HF tokenizers library (node + tok.js): the reference's
    tokenizer_image_token then runs unchanged without one node process per prompt."""

    def __init__(self, tok):
        self.tok = tok
        self.cache = {}

    def fill(self, texts, special=True):
        todo = sorted({t for t in texts if (t, special) not in self.cache})
        if todo:
            for t, ids in zip(todo, self.tok.encode_many(todo, special)):
                self.cache[(t, special)] = ids

    def encode_many(self, texts, special=True):
        self.fill(texts, special)
        return [self.cache[(t, special)] for t in texts]

    def encode(self, text, special=True):
        return self.encode_many([text], special)[0]


def prompt_chunks(user_text):
    """The <image>-separated chunks tokenizer_image_token will encode for this user turn."""
    return R.chat_prompt(R.user_turn(user_text, True)).split("<image>")


def prompt_ids(ctok, user_text, bos_id):
    return R.tokenizer_image_token(ctok, R.chat_prompt(R.user_turn(user_text, True)), bos_id)


def splice(llm, ids, image_embeds):
    """Reference Pipeline.prompt_embeds (spec 5.4) on a given LLaDA object."""
    return R.Pipeline.prompt_embeds(types.SimpleNamespace(llm=llm), ids, image_embeds)
