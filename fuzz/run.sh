#!/usr/bin/env bash
# Builds the libFuzzer target for the GGUF reader (with AddressSanitizer) and runs it.
# Usage: fuzz/run.sh [seconds=60] [extra libFuzzer flags...]
# Output: fuzz/gguf-fuzz (binary); crash-*/leak-*/timeout-* files in fuzz/ when something is found.
# The corpus (seeds + inputs the fuzzer found interesting) lives in $GGUF_FUZZ_CORPUS
# (default: $TMPDIR/gguf-fuzz-corpus), outside the repository.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TO_RUN="${1:-60}"
shift || true
ROOT="$(cd .. && pwd)"

echo "building gguf-fuzz..."
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name GGUFFuzz \
    "$ROOT"/Sources/GGUF/*.swift GGUFFuzz.swift -o gguf-fuzz

# Seed corpus: small valid files written by a tiny generator (no model files needed).
CORPUS="${GGUF_FUZZ_CORPUS:-${TMPDIR:-/tmp}/gguf-fuzz-corpus}"
mkdir -p "$CORPUS"
if [ -z "$(ls -A "$CORPUS" 2>/dev/null)" ]; then
    CORPUS="$CORPUS" python3 - <<'PY'
import struct, os
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
def kv_u32(k, v): return s(k) + struct.pack('<II', 4, v)
def kv_str(k, v): return s(k) + struct.pack('<I', 8) + s(v)
def kv_arr_str(k, xs): return s(k) + struct.pack('<IIQ', 9, 8, len(xs)) + b''.join(s(x) for x in xs)
def kv_arr_f32(k, xs): return s(k) + struct.pack('<IIQ', 9, 6, len(xs)) + b''.join(struct.pack('<f', x) for x in xs)
def tinfo(name, dims, t, off): return s(name) + struct.pack('<I', len(dims)) + b''.join(struct.pack('<Q', d) for d in dims) + struct.pack('<IQ', t, off)
def gguf(kvs, tensors, data, align=32, version=3):
    h = b'GGUF' + struct.pack('<IQQ', version, len(tensors), len(kvs)) + b''.join(kvs) + b''.join(tensors)
    h += b'\0' * ((-len(h)) % align)
    return h + data
# (type id, bytes per block, block size)
TYPES = {0: (4, 1), 1: (2, 1), 30: (2, 1), 2: (18, 32), 3: (20, 32), 6: (22, 32), 7: (24, 32), 8: (34, 32),
         9: (36, 32), 10: (84, 256), 11: (110, 256), 12: (144, 256), 13: (176, 256), 14: (210, 256), 15: (292, 256),
         24: (1, 1), 25: (2, 1), 26: (4, 1), 27: (8, 1), 28: (8, 1)}
os.chdir(os.environ['CORPUS'])
os.makedirs('corpus', exist_ok=True)
base_kvs = [kv_str('general.architecture', 'llama'), kv_u32('llama.block_count', 2),
            kv_arr_str('tokenizer.ggml.tokens', ['<s>', 'a', 'bc']), kv_arr_f32('tokenizer.ggml.scores', [0.0, -1.5, 2.0])]
for t, (bpb, bs) in TYPES.items():
    n = bs if bs > 1 else 8
    nbytes = (n // bs) * bpb
    data = bytes((i * 37 + 11) & 0x3F for i in range(nbytes))
    open(f'corpus/seed-type{t}.gguf', 'wb').write(gguf(base_kvs, [tinfo('w', [n], t, 0)], data))
# several tensors, v2, alignment 64, nested arrays
nested = s('nested') + struct.pack('<IIQ', 9, 9, 2) + struct.pack('<IQ', 4, 2) + struct.pack('<II', 1, 2) + struct.pack('<IQ', 8, 1) + s('x')
data = bytes(range(256)) + bytes(34)
open('corpus/seed-multi.gguf', 'wb').write(gguf(base_kvs + [nested], [tinfo('a', [32, 2], 0, 0), tinfo('b', [32], 8, 256)], data))
open('corpus/seed-v2.gguf', 'wb').write(gguf(base_kvs, [tinfo('a', [8], 0, 0)], bytes(32), version=2))
open('corpus/seed-align64.gguf', 'wb').write(gguf([kv_u32('general.alignment', 64)] + base_kvs, [tinfo('a', [8], 0, 0), tinfo('b', [8], 0, 64)], bytes(96), align=64))
open('corpus/seed-empty.gguf', 'wb').write(gguf([], [], b''))
PY
fi
echo "corpus $CORPUS/corpus: $(ls "$CORPUS/corpus" | wc -l) files"
echo "fuzzing for ${SECONDS_TO_RUN}s..."
./gguf-fuzz "$CORPUS/corpus" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 "$@"
