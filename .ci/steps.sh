# Sourced by the scripts CI runs: `step NAME` announces a step and says how
# long the previous one took; `step ""` closes the last one. Set STEP_PREFIX.
step() {
  if [[ -n ${step_name:-} ]]; then
    echo "-- ${STEP_PREFIX:-}: $step_name took $((SECONDS - step_started)) s"
  fi
  step_name=$1
  step_started=$SECONDS
  if [[ -n $step_name ]]; then
    echo "== ${STEP_PREFIX:-}: $step_name"
  fi
}
