#!/usr/bin/env bash
# The shell logic of the voicectl GitHub Action (action.yml). It lives in a file
# so that tests can run it with a temporary GITHUB_STEP_SUMMARY against the sandbox.
#
# Inputs, from the environment (action.yml passes its inputs this way, never by
# pasting them into the script, so no input can inject shell code):
#   VOICECTL_ACTION_COMMAND        plan | apply                      (default: plan)
#   VOICECTL_ACTION_MANIFEST       the manifest                      (default: voices.yaml)
#   VOICECTL_ACTION_ARGS           extra arguments, split on spaces with shell-like
#                                  quoting ("a b" is one), never expanded
#   VOICECTL_ACTION_PLAN_FILE      plan: save the plan there (--out);
#                                  apply: apply exactly that saved plan
#   VOICECTL_ACTION_FAIL_ON_DRIFT  true: a plan with pending changes (exit 2) fails
#   VOICECTL_ACTION_COMMENT        true: keep one PR comment per manifest and environment
#                                  up to date with the report (scripts/pr-comment.sh)
#   VOICECTL_ENV                   the manifest's environment (--env), if any
#   VOICECTL_BIN                   the voicectl to run               (default: voicectl)
#   GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP   set by GitHub Actions
#
# Outputs (appended to $GITHUB_OUTPUT when set):
#   exitcode   voicectl's exit code (plan runs with --detailed-exitcode: 2 = changes)
#   changes    true when the plan has changes pending, else false
#   markdown   path of a file holding the Markdown report (for a PR comment)
#
# The step fails (exit 1) when voicectl fails (exit 1), and on pending changes
# only when VOICECTL_ACTION_FAIL_ON_DRIFT is true.
set -uo pipefail

command=${VOICECTL_ACTION_COMMAND:-plan}
manifest=${VOICECTL_ACTION_MANIFEST:-voices.yaml}
extra_args=${VOICECTL_ACTION_ARGS:-}
plan_file=${VOICECTL_ACTION_PLAN_FILE:-}
fail_on_drift=${VOICECTL_ACTION_FAIL_ON_DRIFT:-false}
comment=${VOICECTL_ACTION_COMMENT:-false}
voicectl=${VOICECTL_BIN:-voicectl}

case "$command" in
  plan)
    args=(plan --detailed-exitcode -f "$manifest")
    if [ -n "$plan_file" ]; then args+=(--out "$plan_file"); fi
    ;;
  apply)
    if [ -n "$plan_file" ]; then
      args=(apply "$plan_file" -f "$manifest")
    else
      args=(apply --auto-approve -f "$manifest")
    fi
    ;;
  *)
    echo "::error::voicectl action: command must be plan or apply, not '$command'"
    exit 1
    ;;
esac

case "$fail_on_drift" in
  true | false) ;;
  *)
    echo "::error::voicectl action: fail-on-drift must be true or false, not '$fail_on_drift'"
    exit 1
    ;;
esac

case "$comment" in
  true | false) ;;
  *)
    echo "::error::voicectl action: comment must be true or false, not '$comment'"
    exit 1
    ;;
esac

tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
if [ -n "${extra_args//[[:space:]]/}" ]; then  # blank args (a matrix's ''): none
  # xargs splits with shell-like quoting and expands nothing (works with bash 3.2 too).
  split=$(mktemp "$tmp/voicectl-args.XXXXXX")
  if ! printf '%s' "$extra_args" | xargs printf '%s\0' >"$split"; then
    echo "::error::voicectl action: cannot split args (unbalanced quotes?): $extra_args"
    exit 1
  fi
  while IFS= read -r -d '' word; do
    args+=("$word")
  done <"$split"
  rm -f "$split"
fi

markdown=$(mktemp "$tmp/voicectl-report.XXXXXX")
# Problems in the manifest as workflow annotations, shown on the pull request's
# diff at their lines (offline; the plan or apply below reports them too).
validate_args=(validate --format github -f "$manifest")
for word in "${args[@]}"; do
  case "$word" in
    --allow-any-duration | --allow-outside-files) validate_args+=("$word") ;;
  esac
done
echo "+ voicectl ${validate_args[*]}"
"$voicectl" "${validate_args[@]}" || true
echo "+ voicectl ${args[*]}"
# voicectl appends its Markdown report to GITHUB_STEP_SUMMARY; point it at our
# file first, so that the report is also available to later steps.
GITHUB_STEP_SUMMARY="$markdown" "$voicectl" "${args[@]}"
code=$?

if [ ! -s "$markdown" ]; then
  # voicectl always writes a report; if it could not (it crashed, was killed), say so.
  printf '### voicectl %s: failed (exit %s)\n\nvoicectl wrote no report; see the job log.\n' \
    "$command" "$code" >"$markdown"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$markdown" ]; then
  cat "$markdown" >>"$GITHUB_STEP_SUMMARY"
fi

if [ "$comment" = true ]; then
  VOICECTL_COMMENT_REPORT="$markdown" VOICECTL_COMMENT_EXITCODE="$code" \
    VOICECTL_COMMENT_COMMAND="$command" VOICECTL_COMMENT_MANIFEST="$manifest" \
    bash "$(dirname "${BASH_SOURCE[0]}")/pr-comment.sh" \
    || echo "::warning::voicectl: could not post or update the pull-request comment (see above)"
fi

changes=false
if [ "$code" -eq 2 ]; then changes=true; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exitcode=$code"
    echo "changes=$changes"
    echo "markdown=$markdown"
  } >>"$GITHUB_OUTPUT"
fi

case "$code" in
  0) exit 0 ;;
  2)
    if [ "$fail_on_drift" = true ]; then
      echo "::error::voicectl: the voice clones differ from $manifest (changes pending; see the job summary)"
      exit 1
    fi
    exit 0
    ;;
  *)
    echo "::error::voicectl $command failed (exit $code); see the log above"
    exit 1
    ;;
esac
