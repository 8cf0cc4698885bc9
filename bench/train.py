#!/usr/bin/env python3
"""Training speed: Hyperlab's TrainModel (bench/train, `train-bench`) vs PyTorch (transformers, fp32) on the same
model weights (dequantized from the same GGUF), the same batch shape and the same thread count, in one run.

Modes (each runs in its own process, so peak RSS is per mode):
  full        forward + backward, every parameter trainable
  full-adamw  the same plus an AdamW step
  lora-adamw  LoRA rank 8 (alpha 16) on every linear module of every block, frozen base, AdamW on the adapters
  sft-adamw   full fine-tune where the first half of every row carries no loss (chat SFT shape)

Both engines are timed by wall clock and by process CPU time; on a machine shared with other work the CPU-time
rate (tokens per CPU-second × threads) is the steadier comparison. Ratios > 1 mean Hyperlab is faster / smaller.

Usage: bench/train.py [--model PATH] [--threads 2] [--rows 4] [--length 256] [--steps 3]
                      [--modes full,full-adamw,lora-adamw,sft-adamw] [--no-torch] [--record]
Needs: `swift build -c release --product train-bench`; torch + transformers.
"""
import argparse, json, os, resource, subprocess, sys, time, datetime, platform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = "/root/.cache/hyperlab/models/SmolLM2-135M-Instruct.Q4_1.gguf"
BENCH = os.environ.get("HYPERLAB_TRAIN_BENCH", os.path.join(ROOT, ".build", "release", "train-bench"))
CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hyperlab-train-bench")


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def hf_dir(gguf_path):
    """The GGUF dequantized once into a plain transformers checkpoint (so loading does not inflate peak RSS)."""
    d = os.path.join(CACHE, os.path.basename(gguf_path) + ".hf")
    if not os.path.exists(os.path.join(d, "weights.pt")):
        import torch
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path),
                                                 dtype=torch.float32)
        os.makedirs(d, exist_ok=True)
        cfg = m.config.to_dict()
        cfg.pop("quantization_config", None)
        with open(os.path.join(d, "config.json"), "w") as fh:
            json.dump(cfg, fh)
        torch.save(m.state_dict(), os.path.join(d, "weights.pt"))  # transformers refuses save_pretrained on GGUF loads
    return d


def torch_worker(a):
    import torch
    from torch import nn
    from transformers import AutoConfig, AutoModelForCausalLM
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(a.hf)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    res = model.load_state_dict(torch.load(os.path.join(a.hf, "weights.pt")), strict=False)
    model.tie_weights()
    unexpected = [k for k in res.missing_keys if k != "lm_head.weight"] + list(res.unexpected_keys)
    if unexpected:
        raise SystemExit(f"weights do not match the model: {unexpected[:5]}")
    model.config.use_cache = False
    model.train()
    mode = a.torch_worker
    if mode.startswith("lora"):
        class LoRALinear(nn.Module):
            def __init__(self, base, r, alpha):
                super().__init__()
                self.base = base
                self.a = nn.Parameter(torch.empty(r, base.in_features).uniform_(-base.in_features ** -0.5, base.in_features ** -0.5))
                self.b = nn.Parameter(torch.zeros(base.out_features, r))
                self.scale = alpha / r
            def forward(self, x):
                return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale
        for p in model.parameters():
            p.requires_grad_(False)
        names = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
        for layer in model.model.layers:
            for parent in (layer.self_attn, layer.mlp):
                for n in names:
                    if hasattr(parent, n):
                        setattr(parent, n, LoRALinear(getattr(parent, n), a.rank, 2 * a.rank))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.1) if mode.endswith("adamw") else None
    g = torch.Generator().manual_seed(12345)
    vocab = model.config.vocab_size
    wall, cpu, losses = [], [], []
    for step in range(a.steps + 1):
        ids = torch.randint(0, vocab, (a.rows, a.length), generator=g)
        labels = ids.clone()  # transformers shifts labels inside the loss
        if mode.startswith("sft"):
            labels[:, : a.length // 2] = -100
        t0, c0 = time.perf_counter(), cpu_seconds()
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        if opt is not None:
            opt.step()
        model.zero_grad(set_to_none=False)
        if step > 0:
            wall.append(time.perf_counter() - t0)
            cpu.append(cpu_seconds() - c0)
        losses.append(float(out.loss))
    tokens = a.rows * a.length
    mw, mc = sum(wall) / len(wall), sum(cpu) / len(cpu)
    print(json.dumps({"engine": "pytorch", "mode": mode, "tok_s": tokens / mw, "tok_s_cpu": tokens * a.threads / mc,
                      "step_s": mw, "cpu_s": mc, "loss": losses[-1],
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__}), flush=True)


def ours(a, mode):
    env = dict(os.environ, HYPERLAB_THREADS=str(a.threads))
    out = subprocess.run([BENCH, "--model", a.model, "--mode", mode, "--rows", str(a.rows), "--length", str(a.length),
                          "--steps", str(a.steps)], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def theirs(a, mode, hf):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", mode, "--hf", hf,
                          "--threads", str(a.threads), "--rows", str(a.rows), "--length", str(a.length),
                          "--steps", str(a.steps), "--rank", "8"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--modes", default="full,full-adamw,lora-adamw,sft-adamw")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--record", action="store_true", help="append the result to bench/RESULTS.md")
    ap.add_argument("--torch-worker", help=argparse.SUPPRESS)
    ap.add_argument("--hf", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_worker:
        return torch_worker(a)
    modes = a.modes.split(",")
    hf = None if a.no_torch else hf_dir(a.model)
    print(f"model {a.model}, batch {a.rows}×{a.length}, {a.threads} threads, {a.steps} timed steps after 1 warm-up",
          flush=True)
    rows = []
    optimizers = set()
    def ratio(x, y): return f"{x / y:.2f}×" if y else "—"
    for mode in modes:
        o = ours(a, mode)
        print("hyperlab:", json.dumps(o), flush=True)
        t = None
        if hf:
            t = theirs(a, mode, hf)
            print("pytorch :", json.dumps(t), flush=True)
        optimizers.add(o.get("optimizer", "none"))
        rows.append((mode, f"{o['tok_s']:.0f} / {o['tok_s_cpu']:.0f}",
                     f"{t['tok_s']:.0f} / {t['tok_s_cpu']:.0f}" if t else "—",
                     ratio(o['tok_s'], t['tok_s']) if t else "—", ratio(o['tok_s_cpu'], t['tok_s_cpu']) if t else "—",
                     f"{o['peak_rss_mib']:.0f}", f"{t['peak_rss_mib']:.0f}" if t else "—",
                     ratio(t['peak_rss_mib'], o['peak_rss_mib']) if t else "—"))
    header = ("| mode | hyperlab tok/s (wall / cpu) | PyTorch tok/s (wall / cpu) | speed ratio (wall) | speed ratio (cpu) "
              "| hyperlab peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ratio (PyTorch/ours) |\n|---|---|---|---|---|---|---|---|")
    table = header + "\n" + "\n".join("| " + " | ".join(r) + " |" for r in rows)
    print(table)
    if a.record:
        stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
        load = os.getloadavg()[0]
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "a") as fh:
            fh.write(f"\n## Training: {os.path.basename(a.model)}, batch {a.rows}×{a.length}, {a.threads} threads "
                     f"({stamp}, {platform.machine()}, load average {load:.1f})\n\n"
                     f"Measured in one run by `bench/train.py --threads {a.threads} --rows {a.rows} --length {a.length}`. "
                     "tok/s = batch tokens per step time (optimizer included); \"cpu\" = tokens per CPU-second × threads. "
                     "Ratios > 1 mean Hyperlab is faster (or smaller). Our AdamW: "
                     f"{', '.join(sorted(optimizers - {'none'})) or 'none'}.\n\n" + table + "\n")


if __name__ == "__main__":
    main()
