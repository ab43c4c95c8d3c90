"""Print every analysed network's fixed points of a study: stability and readout (outputs)
at each point, from the analysis folders the sweep wrote (RUN_DIR/mechanisms/...).

    python examples/studies/fixed_point_readouts.py out/studies/silenced_flipflop/results.sqlite
"""

import json
import sys
from pathlib import Path

from rnnzoo.training.results import read_runs

for row in sorted(read_runs(sys.argv[1]), key=lambda r: (r["model_label"], r["seed"])):
    if row["analysis_status"] != "done":
        continue
    summary = json.loads((Path(row["analysis_dir"]) / "fixed_points.json").read_text())["summary"]
    points = [p for p in summary["points"] if p["fixed"]]
    text = "; ".join(
        f"{p['stability']} at ({', '.join(f'{v:+.2f}' for v in p['output'])})" for p in points
    )
    print(f"{row['task_label']} / {row['model_label']} / seed {row['seed']}: {text}")
