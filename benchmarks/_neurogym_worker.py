"""Time neurogym's Dataset producing `batch_size` trials of `trial_steps` steps (run by
bench_tasks.py in a virtualenv that has neurogym; prints one JSON line)."""

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import neurogym as ngym  # noqa: E402

env_id, env_kwargs = sys.argv[1], json.loads(sys.argv[2])
trial_steps, batch_size, repeats = (int(x) for x in sys.argv[3:6])
# one trial's worth of steps per row, regenerated on every call (no cache reuse)
dataset = ngym.Dataset(
    env_id, env_kwargs=env_kwargs, batch_size=batch_size, seq_len=trial_steps, cache_len=trial_steps
)
dataset()
times = []
for _ in range(repeats):
    start = time.process_time()
    dataset()
    times.append(time.process_time() - start)
print(json.dumps({"best_s": min(times), "median_s": sorted(times)[len(times) // 2]}))
