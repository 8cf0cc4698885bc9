#!/usr/bin/env python3
"""Inference speed: Hyperlab's engine vs llama.cpp (llama-cpp-python) vs PyTorch (transformers, fp32),
on the same GGUF file, the same 512-token prompt and the same thread count, in one run.

Usage: bench/inference.py [--model smollm2-135m-instruct] [--threads 2] [--rounds 3] [--no-torch] [--record]
Needs: a release build (`swift build -c release`) and bench/setup.sh.

The sides alternate for --rounds rounds (Hyperlab, llama.cpp, PyTorch, then again), each round taking the best
of 3 repetitions per figure; the table compares each side's best round, so a slow spell of the host (it swings
by 15-30% between minutes) that falls on one side's turn does not decide a ratio. Each round's own ratios are
printed too.
"""
import argparse, json, os, resource, subprocess, sys, time, datetime, platform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = os.path.join(ROOT, "..", "shared", "reference", "prompt512.txt")
if not os.path.exists(PROMPT):
    PROMPT = os.path.join(ROOT, "bench", "prompt512.txt")
HYPERLAB = os.path.join(ROOT, ".build", "release", "hyperlab")


def model_path(alias):
    out = subprocess.run([HYPERLAB, "models", "pull", alias], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def ours(alias, threads, n, gen, streams):
    out = subprocess.run([HYPERLAB, "bench", "engine", "--model", alias, "--threads", str(threads), "--prompt-file", PROMPT,
                          "--tokens", str(n), "--gen-tokens", str(gen), "--streams", str(streams),
                          "--context", "2048", "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def llama_cpp(path, threads, n, gen, repeats=3):
    import llama_cpp
    text = open(PROMPT).read()
    res = {}
    llm = llama_cpp.Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads,
                          n_batch=512, n_ubatch=512, logits_all=False, verbose=False)
    ids = llm.tokenize(text.encode(), add_bos=False, special=False)
    while len(ids) < n:
        ids += ids
    ids = ids[:n]
    best = 1e9
    for _ in range(repeats):
        llm.reset(); llm._ctx.kv_cache_clear() if hasattr(llm._ctx, "kv_cache_clear") else None
        t = time.perf_counter(); llm.eval(ids); best = min(best, time.perf_counter() - t)
    res["prompt_tok_s"] = n / best
    # Generation after the prompt: greedy through llama-cpp-python's own loop; the clock starts at the
    # first generated token, so the prompt is not counted. The best of `repeats` runs, as for Hyperlab.
    res["gen_tok_s"] = 0.0
    for _ in range(repeats):
        llm.reset()
        start, count = None, 0
        for _tok in llm.generate(ids, top_k=1, temp=0.0, reset=True):
            if start is None:
                start = time.perf_counter()
                continue
            count += 1
            if count >= gen:
                break
        res["gen_tok_s"] = max(res["gen_tok_s"], count / (time.perf_counter() - start))
    del llm
    # Full logits over the prompt.
    llm = llama_cpp.Llama(model_path=path, n_ctx=2048, n_threads=threads, n_threads_batch=threads,
                          n_batch=512, n_ubatch=512, logits_all=True, verbose=False)
    best = 1e9
    for _ in range(repeats):
        llm.reset()
        t = time.perf_counter(); llm.eval(ids); best = min(best, time.perf_counter() - t)
    res["score_seconds"] = best
    return res


def torch_fp32(path, threads, n):
    """Loads the model once (dequantizing the GGUF takes a while) and returns a function timing one round."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(threads)
    d, f = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    ids = tok(open(PROMPT).read(), add_special_tokens=False)["input_ids"]
    while len(ids) < n:
        ids += ids
    x = torch.tensor([ids[:n]])
    return lambda: torch_round(torch, model, x, n)


def torch_round(torch, model, x, n, repeats=3):
    res = {}
    with torch.inference_mode():
        model(x[:, :64])
        best = 1e9
        for _ in range(repeats):
            t = time.perf_counter(); model(x, logits_to_keep=1); best = min(best, time.perf_counter() - t)
        res["prompt_tok_s"] = n / best
        best = 1e9
        for _ in range(repeats):
            t = time.perf_counter(); model(x); best = min(best, time.perf_counter() - t)
        res["score_seconds"] = best
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--streams", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3, help="alternations of the three sides (best round wins)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--record", action="store_true", help="append the result to bench/RESULTS.md")
    a = ap.parse_args()
    path = model_path(a.model)
    print(f"model {a.model} ({path}), {a.threads} threads, {a.tokens}-token prompt", flush=True)
    torch_run = None
    if not a.no_torch:
        try:
            torch_run = torch_fp32(path, a.threads, a.tokens)
        except Exception as e:  # an architecture transformers cannot load from GGUF
            print(f"pytorch  : unavailable ({type(e).__name__}: {e})", flush=True)
    def ratio(x, y): return f"{x / y:.2f}×" if y else "n/a"
    # Rates: higher is better; seconds: lower is better. Each side keeps its best round per figure.
    def best(runs):
        if not runs:
            return None
        out = dict(runs[0])
        for r in runs[1:]:
            for k, v in r.items():
                if isinstance(v, (int, float)) and k in out:
                    out[k] = min(out[k], v) if k.endswith("_seconds") else max(out[k], v)
        return out
    runs_o, runs_l, runs_t = [], [], []
    for rnd in range(1, a.rounds + 1):
        o = ours(a.model, a.threads, a.tokens, a.gen, a.streams)
        print(f"round {rnd} hyperlab :", json.dumps(o), flush=True)
        l = llama_cpp(path, a.threads, a.tokens, a.gen)
        print(f"round {rnd} llama.cpp:", json.dumps(l), flush=True)
        t = torch_run() if torch_run else None
        if t:
            print(f"round {rnd} pytorch  :", json.dumps(t), flush=True)
        runs_o.append(o); runs_l.append(l)
        if t:
            runs_t.append(t)
        print(f"round {rnd} ratios: prompt {ratio(o['prompt_tok_s'], l['prompt_tok_s'])} llama.cpp"
              + (f" / {ratio(o['prompt_tok_s'], t['prompt_tok_s'])} PyTorch" if t else "")
              + f", scoring {ratio(l['score_seconds'], o['score_seconds'])}"
              + (f" / {ratio(t['score_seconds'], o['score_seconds'])}" if t else "")
              + f", generation {ratio(o['gen_tok_s'], l['gen_tok_s'])}, {a.streams} streams "
              + ratio(o['streams_aggregate_tok_s'], l['gen_tok_s']), flush=True)
    o, l, t = best(runs_o), best(runs_l), best(runs_t)
    rows = []
    rows.append(("prompt processing, %d tokens (tok/s)" % a.tokens, f"{o['prompt_tok_s']:.0f}", f"{l['prompt_tok_s']:.0f}",
                 f"{t['prompt_tok_s']:.0f}" if t else "—", ratio(o['prompt_tok_s'], l['prompt_tok_s']),
                 ratio(o['prompt_tok_s'], t['prompt_tok_s']) if t else "—"))
    rows.append(("full-logit scoring, %d tokens (s)" % a.tokens, f"{o['score_seconds']:.2f}", f"{l['score_seconds']:.2f}",
                 f"{t['score_seconds']:.2f}" if t else "—", ratio(l['score_seconds'], o['score_seconds']),
                 ratio(t['score_seconds'], o['score_seconds']) if t else "—"))
    rows.append(("generation after the prompt (tok/s)", f"{o['gen_tok_s']:.1f}", f"{l['gen_tok_s']:.1f}", "—",
                 ratio(o['gen_tok_s'], l['gen_tok_s']), "—"))
    rows.append((f"{a.streams} streams from one prompt, aggregate (tok/s)", f"{o['streams_aggregate_tok_s']:.0f}",
                 f"{l['gen_tok_s']:.1f} (1 stream)", "—", ratio(o['streams_aggregate_tok_s'], l['gen_tok_s']), "—"))
    rows.append(("peak resident memory, 2k context (MiB)", f"{o['peak_rss_mib']:.0f}", "—", "—", "—", "—"))
    header = "| what | hyperlab | llama.cpp | PyTorch fp32 | vs llama.cpp | vs PyTorch |\n|---|---|---|---|---|---|"
    table = header + "\n" + "\n".join("| " + " | ".join(r) + " |" for r in rows)
    print(table)
    if a.record:
        stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as fh:
            fh.write(f"\n## Inference: {a.model}, {a.threads} threads ({stamp}, {platform.machine()})\n\n"
                     f"Measured in one run by `bench/inference.py --model {a.model} --threads {a.threads} --rounds {a.rounds}`. "
                     f"Each figure is each side's best of {a.rounds} alternating rounds of 3 repetitions. "
                     "Ratios > 1 mean Hyperlab is faster.\n\n" + table + "\n")


if __name__ == "__main__":
    main()
