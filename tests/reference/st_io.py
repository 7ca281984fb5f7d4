"""st_io.py - hand-written safetensors reader/writer (no `safetensors` package).

File layout: u64 little-endian header length N, N bytes of JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the raw little-endian tensor bytes (offsets relative to the end of the header).
Supported dtypes: F32, F16, BF16, I32 (the ones lladav reads).

The writer is deterministic: tensors in sorted name order, header JSON with sorted keys
and no spaces, padded with spaces to a multiple of 8 bytes (as the reference library does),
so the same tensors always give byte-identical files.
"""
import json
import struct

import numpy as np

_NP = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "I32": np.dtype("<i4"),
       "BF16": np.dtype("<u2"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8")}


def bf16_bits_to_f32(u16):
    """bf16 bit patterns (uint16 array) -> float32 (exact widening)."""
    return (u16.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """float32 -> bf16 bit patterns, round-to-nearest-even (what torch .to(bfloat16) does).
    NaN is not expected in weights and is not special-cased."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n).decode("utf-8"))
    return n, hdr


def load(path, as_f32=True):
    """Returns (dict name -> numpy array, metadata dict). BF16/F16 widen to float32 when
    as_f32 (exact); otherwise BF16 comes back as raw uint16 bits."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = hdr.pop("__metadata__", {}) or {}
    out = {}
    for name, info in hdr.items():
        dt = info["dtype"]
        if dt not in _NP:
            raise ValueError("%s: %s: unsupported dtype %s" % (path, name, dt))
        b, e = info["data_offsets"]
        shape = tuple(info["shape"])
        arr = np.frombuffer(raw[base + b:base + e], dtype=_NP[dt]).reshape(shape).copy()
        if as_f32 and dt == "BF16":
            arr = bf16_bits_to_f32(arr)
        elif as_f32 and dt == "F16":
            arr = arr.astype(np.float32)
        out[name] = arr
    return out, meta


def save(path, tensors, metadata=None, dtypes=None):
    """tensors: dict name -> numpy array. dtypes: optional dict name -> "F32"|"F16"|"BF16"|"I32"
    (default: F32 for floating arrays, I32 for integer arrays)."""
    dtypes = dtypes or {}
    header = {}
    blobs = []
    off = 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        dt = dtypes.get(name) or ("I32" if np.issubdtype(a.dtype, np.integer) else "F32")
        if dt == "BF16":
            data = f32_to_bf16_bits(a.astype(np.float32)).tobytes()
        else:
            data = np.ascontiguousarray(a.astype(_NP[dt])).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hj = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
