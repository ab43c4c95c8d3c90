"""Bridges to the ecosystem, each importing its optional dependency lazily.

- `rnnzoo.interop.neurogym`: any neurogym ``TrialEnv`` as an rnnzoo task (``neurogym/NAME``);
  needs ``pip install "rnnzoo[neurogym]"``.
- `rnnzoo.interop.gym`: any rnnzoo task as a gymnasium environment (one trial per episode);
  needs gymnasium (``pip install "rnnzoo[gym]"``, or it comes with neurogym).

The core (tasks, models, training, analysis) never imports either package.
"""
