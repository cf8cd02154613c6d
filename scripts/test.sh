#!/usr/bin/env bash
# Install voicectl and its test tools into .venv, lint, type-check, run the whole suite.
#
#   bash scripts/test.sh                    # everything, in a random order (seed printed)
#   bash scripts/test.sh -m "not e2e"       # the fast subset: no real server
#   SEED=1234 bash scripts/test.sh          # replay an order
#   bash scripts/test.sh -p no:randomly     # file order
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy   # reconciler/, configured in pyproject.toml (pydantic plugin)
order=()
if [[ " $* " != *" no:randomly "* ]]; then
    SEED=${SEED:-$(.venv/bin/python -c 'import random; print(random.randrange(1, 2**31))')}
    echo "test order: random, --randomly-seed=$SEED (replay: SEED=$SEED bash scripts/test.sh)"
    order=(--randomly-seed="$SEED")
fi
HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci} .venv/bin/python -m pytest -q -n 2 "${order[@]}" "$@"
