"""A Python session for `doc_runner`: reads one repr()'d block per line from stdin, executes
it in one shared namespace, and prints "@@done ok" or the traceback and "@@done error"."""

import ast
import sys
import traceback

import torch

torch.set_num_threads(1)
namespace: dict = {"__name__": "__main__"}
for line in sys.stdin:
    code = ast.literal_eval(line)
    try:
        exec(compile(code, "<doc block>", "exec"), namespace)
        status = "ok"
    except BaseException:
        traceback.print_exc(file=sys.stdout)
        status = "error"
    print(f"@@done {status}", flush=True)
