"""Runs a two-sample Inspect evaluation against a running `hyperlab serve` through Inspect's
OpenAI-compatible provider (`openai-api/hyperlab/MODEL`, which reads HYPERLAB_BASE_URL and
HYPERLAB_API_KEY) and prints a JSON summary of the log.

usage: python3 inspect_task.py LOG_DIR MODEL
"""
import json
import sys

from inspect_ai import Task, eval as inspect_eval, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate

log_dir, model = sys.argv[1], sys.argv[2]


@task
def tiny():
    return Task(
        dataset=[Sample(input="What colour is the sky on a clear day? Answer in one word.", target="blue"),
                 Sample(input="What is 2 + 2? Answer with a number.", target="4")],
        solver=generate(),
        scorer=includes(),
    )


logs = inspect_eval(tiny(), model=f"openai-api/hyperlab/{model}", log_dir=log_dir, max_tokens=16, temperature=0,
                    display="none", max_retries=0, timeout=120)
log = logs[0]
samples = log.samples or []
print(json.dumps({
    "status": log.status,
    "samples": len(samples),
    "completed_samples": sum(1 for s in samples if s.output is not None and s.output.completion is not None
                             and s.error is None),
    "error": str(log.error) if log.error else None,
}))
