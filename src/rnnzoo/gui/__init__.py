"""The rnnzoo GUI (``rnnzoo gui``, NiceGUI): pick a task, a model and training options, watch
a live preview, start runs in separate processes, follow their curves, stop and resume them,
and look at the results of finished runs.

Modules: `forms` (widgets from parameter schemas), `preview` (task trials as charts), `runs`
(training processes and the runs table's data), `curves` (metrics.jsonl), `analysis` (the
analysis process), the three views (`setup_view`, `runs_view`, `results_view`) and `app`.
"""
