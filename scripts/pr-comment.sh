#!/usr/bin/env bash
# The voicectl Action's comment mode (action.yml `comment: true`): keep ONE comment
# per manifest and environment on the pull request, marked with a hidden marker,
# and update it in place on every push instead of adding a new one. With no
# changes the same comment says so. It talks to GitHub through the `gh` CLI that
# GitHub's runners have (GH_TOKEN authenticates it); tests put a stand-in `gh`
# first on PATH that records the calls it gets.
#
# Inputs, from the environment:
#   VOICECTL_COMMENT_REPORT    the Markdown report voicectl wrote (may be empty)
#   VOICECTL_COMMENT_EXITCODE  voicectl's exit code (0, 1, 2)
#   VOICECTL_COMMENT_COMMAND   plan | apply
#   VOICECTL_COMMENT_MANIFEST  the manifest, as given to the Action
#   VOICECTL_ENV               the environment, if any
#   VOICECTL_COMMENT_PR        the pull request number (default: from GITHUB_EVENT_PATH)
#   GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_SHA, GITHUB_SERVER_URL, GITHUB_RUN_ID
#   GH_TOKEN                   for gh (the Action's github-token input)
#   VOICECTL_GH                the gh to run (default: gh)
#   VOICECTL_PYTHON            the Python that reads JSON (default: python3, else python)
set -euo pipefail

report=${VOICECTL_COMMENT_REPORT:-}
code=${VOICECTL_COMMENT_EXITCODE:-0}
command=${VOICECTL_COMMENT_COMMAND:-plan}
manifest=${VOICECTL_COMMENT_MANIFEST:-voices.yaml}
environment=${VOICECTL_ENV:-}
gh=${VOICECTL_GH:-gh}
python=${VOICECTL_PYTHON:-}
if [ -z "$python" ]; then
  python=$(command -v python3 || command -v python || true)
fi
if [ -z "$python" ]; then
  echo "::warning::voicectl comment: no python found to read GitHub's answers"
  exit 1
fi

pr=${VOICECTL_COMMENT_PR:-}
if [ -z "$pr" ] && [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
  pr=$("$python" -c '
import json, sys
event = json.load(open(sys.argv[1], encoding="utf-8"))
number = (event.get("pull_request") or {}).get("number") or ""
print(number if str(number).isdigit() else "")
' "$GITHUB_EVENT_PATH")
fi
if [ -z "$pr" ]; then
  echo "::notice::voicectl: not a pull request, so no comment was posted"
  exit 0
fi
case "$pr" in
  *[!0-9]*) echo "::warning::voicectl comment: '$pr' is not a pull request number"; exit 1 ;;
esac
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}

# The marker names the manifest and environment, with anything that could end an
# HTML comment (or confuse a search) replaced.
key=$(printf '%s@%s' "$manifest" "${environment:-default}" | LC_ALL=C tr -c 'A-Za-z0-9._/@-' '_')
marker="<!-- voicectl-comment: $key -->"

tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
body=$(mktemp "$tmp/voicectl-comment.XXXXXX")
trap 'rm -f "$body"' EXIT
where="\`$manifest\`${environment:+ (environment \`$environment\`)}"
{
  echo "$marker"
  if [ -n "$report" ] && [ -s "$report" ]; then
    cat "$report"
  else
    echo "### voicectl $command: $where"
    echo
  fi
  case "$code" in
    0 | 2) ;;
    *) echo; echo "**voicectl $command failed (exit $code)** for $where: see the job log." ;;
  esac
  if [ "$code" = 0 ] && [ "$command" = plan ]; then
    echo
    echo "No changes: the voice clones of $where match the manifest."
  fi
  echo
  run=""
  if [ -n "${GITHUB_RUN_ID:-}" ]; then
    run=" in [run ${GITHUB_RUN_ID}](${GITHUB_SERVER_URL:-https://github.com}/$repo/actions/runs/${GITHUB_RUN_ID})"
  fi
  echo "<sub>Updated for ${GITHUB_SHA:-this push}${run}; this comment is edited in place on every push.</sub>"
} >"$body"

# Find our comment among the pull request's comments (every page).
existing=$("$gh" api --paginate "repos/$repo/issues/$pr/comments" | "$python" -c '
import json, sys
marker, text = sys.argv[1], sys.stdin.read()
decoder, pos, found = json.JSONDecoder(), 0, ""
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    page, pos = decoder.raw_decode(text, pos)
    for comment in page if isinstance(page, list) else []:
        # ours starts with the marker; a reply quoting ours ("> <!-- ...") is not ours
        if not found and (comment.get("body") or "").startswith(marker):
            found = str(comment.get("id", ""))
print(found)
' "$marker")

if [ -n "$existing" ]; then
  "$gh" api -X PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" --silent
  echo "voicectl: updated the pull request comment for $where"
else
  "$gh" api -X POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
  echo "voicectl: commented the plan for $where on the pull request"
fi
