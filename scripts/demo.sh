#!/usr/bin/env bash
# Install voicectl into .venv (with its quality extra: PyAV decodes the samples) and run the
# main job against the built-in sandbox: apply the example manifest, show that a second
# plan has nothing to do, print the ids.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[quality]'
.venv/bin/voicectl apply --sandbox --auto-approve -f voices.yaml.example
echo
.venv/bin/voicectl plan --sandbox -f voices.yaml.example --detailed-exitcode
echo
.venv/bin/voicectl output -f voices.yaml.example --format env
