"""A text plan of unchanged samples loads only what it uses: no decoder, no JSON models,
no apply engine.

The quality checks' decoder (PyAV, numpy) is needed only for samples the analysis
cache has not measured, and the pydantic models of the JSON outputs only for
``--format json``; both cost a noticeable part of a quick plan's start.
"""

from __future__ import annotations

import pytest
from startup_support import run_cli_probe

pytestmark = pytest.mark.e2e


def test_a_no_change_text_plan_imports_no_decoder_and_no_json_models(project):
    project.write({"narrator": {}, "bot": {}})
    project.run("apply", "--auto-approve")
    project.run("plan")  # the analysis cache now holds both samples

    done, modules = run_cli_probe(project.root, "plan", env=project.env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No changes" in done.stdout
    assert not {"av", "numpy"} & {m.split(".")[0] for m in modules}
    assert "reconciler.schemas" not in modules
    assert "reconciler.savedplan" not in modules
    # nor what only writing, taking the run lock or sniffing unknown bytes needs
    assert not {"filelock", "filetype"} & {m.split(".")[0] for m in modules}
    assert "reconciler.apply" not in modules

    done, modules = run_cli_probe(project.root, "plan", "--format", "json", env=project.env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reconciler.schemas" in modules  # JSON asked for: the models are used
