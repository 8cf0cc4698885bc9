#!/usr/bin/env python3
"""Writes llama.cpp's logits for every position of token sequences, as raw float32 files.

Used by the export tests to check that llama.cpp reads our GGUF models and LoRA adapters the way our
engine does. Input: a JSON file holding a list of jobs {"model", "lora" (or null), "scale", "tokens",
"out"}; all run in this one process. Exit status 3 when llama_cpp cannot be imported.
"""
import json
import sys

try:
    import numpy as np
    from llama_cpp import Llama
except ImportError as e:  # pragma: no cover
    print(f"llama_cpp not importable: {e}", file=sys.stderr)
    sys.exit(3)


def run(job):
    ids = job["tokens"]
    kwargs = dict(model_path=job["model"], logits_all=True, n_ctx=max(64, len(ids)), n_batch=max(64, len(ids)),
                  n_threads=2, verbose=False, seed=0)
    if job.get("lora"):
        kwargs.update(lora_path=job["lora"], lora_scale=float(job.get("scale", 1.0)))
    llm = Llama(**kwargs)
    llm.eval(ids)
    np.asarray(llm.scores[: len(ids)], dtype=np.float32).tofile(job["out"])
    llm.close()


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        run(job)


if __name__ == "__main__":
    main()
