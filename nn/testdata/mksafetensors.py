#!/usr/bin/env python3
"""Write linear_f32.safetensors, read by TestReadSafetensorsPython in ../safetensors_test.go.

A second, independent implementation of the safetensors layout in the Python standard
library (PyTorch and the safetensors package are not installed on the machine that made the
file). It lays the file out as safetensors.torch.save_file(model.state_dict(), path) does for
the float32 state_dict of

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)])

with metadata {"format": "pt"}: the 8-byte little-endian header length, compact JSON with
"__metadata__" first and the tensors sorted by name (all share one dtype), each entry's fields
in the order dtype, shape, data_offsets, the header padded with spaces to a multiple of 8,
then the tensors' little-endian bytes in the same order.

Values (exact fractions, rounded to float32): element k of a weight is (k - 5) / 7, of a
bias (k + 1) / 3.

Run from nn/testdata:  python3 mksafetensors.py
"""
import json
import struct

widths = [3, 4, 2]
tensors = {}
for i in range(len(widths) - 1):
    fan_in, fan_out = widths[i], widths[i + 1]
    tensors[f"layers.{i}.weight"] = ([fan_out, fan_in], [(k - 5) / 7 for k in range(fan_out * fan_in)])
    tensors[f"layers.{i}.bias"] = ([fan_out], [(k + 1) / 3 for k in range(fan_out)])

header = {"__metadata__": {"format": "pt"}}
data = b""
for name in sorted(tensors):
    shape, values = tensors[name]
    raw = struct.pack(f"<{len(values)}f", *values)
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw

text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * (-len(text) % 8)
with open("linear_f32.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
