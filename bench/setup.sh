#!/usr/bin/env bash
# Installs the anchors the benchmarks compare against: llama.cpp (llama-cpp-python, built from PyPI,
# a 5-10 minute compile on 2 cores) and PyTorch (the CPU-only wheel) with transformers and gguf.
set -euo pipefail
python3 -m pip install --quiet "llama-cpp-python[server]" "torch==2.13.0+cpu" transformers accelerate gguf numpy
