"""The README's examples and docs/tutorial.md run as written (slow: they train small networks).

`doc_runner` runs every ```bash and ```python block in order (Python blocks in one session) and
validates the README's sweep YAML; blocks marked ``<!-- not run: REASON -->`` are skipped."""

import pytest
from doc_runner import ROOT, blocks, run_document

pytestmark = pytest.mark.slow


def test_the_tutorial_runs_as_written(tmp_path):
    ran = run_document(ROOT / "docs" / "tutorial.md", tmp_path)
    assert all(b.skip is None for b in blocks(ROOT / "docs" / "tutorial.md"))  # nothing skipped
    assert {b.language for b in ran} == {"bash", "python"}
    assert (tmp_path / "out" / "tutorial" / "g_sweep" / "analysis" / "summary.json").is_file()


def test_the_readme_examples_run_as_written(tmp_path):
    ran = run_document(ROOT / "README.md", tmp_path)
    skipped = [b for b in blocks(ROOT / "README.md") if b.skip]
    assert len(ran) >= 8
    # what is not run, and why: set-up scripts, the GUI server, command synopses
    assert all(b.language == "bash" for b in skipped), [(b.line, b.skip) for b in skipped]
