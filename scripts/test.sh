#!/usr/bin/env bash
# awsso's test command: ./scripts/test.sh [--quick] [--no-install] [-- RUST_TEST_FILTER_ARGS...]
#
#   1. installs what the tests run, only when missing: each command's Debian package with apt
#      (scripts/lib/need.sh: zsh, fish, tmux, patch, keyutils, python3-venv, awscli = the AWS CLI v2,
#      nodejs/npm; the keyring wrappers add dbus, gnome-keyring, libsecret-tools), a .venv with
#      boto3 + pytest at the repo root, and tests/js/node_modules (`npm ci`: the AWS SDK for
#      JavaScript v3, as tests/js/package-lock.json pins it);
#   2. checks both real credential stores: an unlocked gnome-keyring Secret Service on a
#      private D-Bus, and the kernel keyring (keyutils) in an anonymous session keyring;
#   3. checks that tests/runner.rs (each crate's one integration-test binary) lists every tests/*.rs,
#      then builds once: cargo build --workspace --all-targets;
#   4. runs the Rust tests against the Secret Service (AWSSO_TEST_STORE=secret-service),
#      then again against keyutils with no D-Bus at all (AWSSO_TEST_STORE=keyutils);
#      cargo-nextest when present (plus doctests via cargo test --doc), else cargo test;
#   5. runs the Python tests: .venv/bin/pytest tests/python -q (boto3, the AWS CLI, the JavaScript
#      SDK driven by node from pytest, and need.sh's self-test; no tests yet is not a failure);
#   6. prints a summary; exits non-zero if any step failed.
#
# Options:
#   --quick        skip the keyutils pass
#   --no-install   don't touch apt, pip or npm (missing pieces then fail or are skipped loudly)
#   -- ARGS        passed to the Rust test runner in both passes (e.g. a test-name filter)
# Environment:
#   AWSSO_TEST_ONLY_ENV=1    stop after installing and checking both keyrings (no cargo)
#   AWSSO_TEST_RUNNER=cargo  use `cargo test` even when cargo-nextest is installed
# Tests get: AWSSO_TEST_STORE, AWSSO_STORE (secret-service | keyutils),
#   AWSSO_TEST_PYTHON (the venv's python), AWSSO_TEST_TARGET_DIR (cargo's target dir).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
lib="$repo/scripts/lib"
# shellcheck source=lib/common.sh
source "$lib/common.sh"

# shellcheck source=lib/need.sh
source "$lib/need.sh"

PIP_PACKAGES=(boto3 pytest)

quick=0
install=1
runner_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-install)
      install=0
      export AWSSO_NO_INSTALL=1
      ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    --)
      shift
      runner_args=("$@")
      break
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

venv="$repo/.venv"
export AWSSO_TEST_PYTHON="$venv/bin/python"
export AWSSO_TEST_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

# ---- step bookkeeping -------------------------------------------------------------------
step_names=()
step_results=()
step_secs=()
failed=0
record() { # NAME RESULT SECONDS
  step_names+=("$1")
  step_results+=("$2")
  step_secs+=("$3")
  [[ "$2" != FAIL* ]] || failed=1
}
# run_step NAME CMD...: runs CMD, records PASS/FAIL with its duration; never exits.
run_step() {
  local name="$1" start rc=0
  shift
  log "$name"
  start=$SECONDS
  "$@" || rc=$?
  if ((rc == 0)); then
    record "$name" PASS $((SECONDS - start))
  else
    record "$name" "FAIL (exit $rc)" $((SECONDS - start))
  fi
  return 0
}
summary() {
  local i line
  echo
  echo "================================ awsso test summary ================================"
  for i in "${!step_names[@]}"; do
    printf '  %-58s %-20s %5ss\n' "${step_names[$i]}" "${step_results[$i]}" "${step_secs[$i]}"
  done
  if ((failed)); then
    line="${_c_red}${_c_bold}FAILED${_c_off}"
  else
    line="${_c_grn}${_c_bold}OK${_c_off}"
  fi
  echo "  result: $line (total ${SECONDS}s)"
  echo "===================================================================================="
}

# ---- 1. install -------------------------------------------------------------------------
# The commands the tests run (scripts/lib/need.sh maps each to its Debian package and installs only
# what is missing). The keyring wrappers install their own (dbus, gnome-keyring, libsecret-tools).
install_apt() {
  need zsh fish patch script tmux keyctl python3 python3-venv /usr/bin/aws node npm /usr/bin/time jq runuser setpriv unshare
}

venv_ok() { [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import boto3, pytest' 2>/dev/null; }

install_venv() {
  if venv_ok; then
    ok ".venv present (boto3, pytest)"
    return 0
  fi
  if ((install == 0)); then
    warn "--no-install: .venv with boto3+pytest missing; Python tests will be skipped"
    return 0
  fi
  log "creating .venv with ${PIP_PACKAGES[*]}"
  if [[ -e "$venv" ]] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    rm -rf "$venv" # broken (e.g. its python moved): rebuild
  fi
  [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
  venv_ok || die ".venv was created but cannot import boto3/pytest"
}

js="$repo/tests/js"
js_ok() { [[ -f "$js/node_modules/.package-lock.json" ]] && cmp -s "$js/package-lock.json" "$js/node_modules/.package-lock.json.src" 2>/dev/null; }
install_js() { # the AWS SDK for JavaScript v3, exactly as package-lock.json pins it
  if js_ok; then
    ok "tests/js/node_modules matches package-lock.json"
    return 0
  fi
  if ((install == 0)); then
    warn "--no-install: tests/js/node_modules missing or stale; the JavaScript SDK tests will fail"
    return 1
  fi
  command -v npm >/dev/null || return 1
  log "npm ci in tests/js"
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error) &&
    cp "$js/package-lock.json" "$js/node_modules/.package-lock.json.src"
}

start=$SECONDS
install_result=PASS
if ! install_apt; then
  if ((install)); then install_result="FAIL (apt)"; else install_result="WARN (missing commands)"; fi
fi
install_venv
if ! install_js; then
  if ((install)); then install_result="FAIL (npm ci)"; else install_result="WARN (no tests/js/node_modules)"; fi
fi
record "install (apt, .venv, npm ci in tests/js)" "$install_result" $((SECONDS - start))

# ---- 2. check both real keyrings ----------------------------------------------------------
run_step "check: Secret Service (gnome-keyring on private D-Bus)" \
  bash "$lib/with-secret-service.sh" </dev/null

keyutils=1
if ((quick)); then
  keyutils=0
  record "check: kernel keyring (keyutils)" "SKIP (--quick)" 0
elif bash "$lib/with-keyutils.sh" --check; then
  ok "kernel keyring: keyctl session + add/print work"
  record "check: kernel keyring (keyutils)" PASS 0
else
  keyutils=0
  warn "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  warn "the kernel keyring is NOT usable here (keyctl session -/add_key failed):"
  warn "the keyutils test pass is SKIPPED. Credentials in keyutils are NOT tested on this machine."
  warn "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  record "check: kernel keyring (keyutils)" "SKIP (UNAVAILABLE)" 0
fi

if [[ "${AWSSO_TEST_ONLY_ENV:-}" == 1 ]]; then
  log "AWSSO_TEST_ONLY_ENV=1: stopping before cargo"
  summary
  exit "$failed"
fi
if ((failed)); then
  summary
  die "the test environment is broken; not building"
fi

# ---- 3. build -----------------------------------------------------------------------------
# Each crate has one integration-test binary, tests/runner.rs (autotests = false): a tests/X.rs it does
# not list as `mod X;` would never be compiled or run, so that fails here.
check_runners() {
  local dir f m rc=0
  for dir in tests crates/awsso-sim/tests; do
    for f in "$dir"/*.rs; do
      m="${f##*/}"
      m="${m%.rs}"
      [[ "$m" != runner ]] || continue
      if ! grep -qxF "mod $m;" "$dir/runner.rs"; then
        warn "$f is not a module of $dir/runner.rs: add \`mod $m;\` there, or its tests never run"
        rc=1
      fi
    done
  done
  return "$rc"
}
run_step "check: every tests/*.rs is a module of tests/runner.rs" check_runners
run_step "cargo build --workspace --all-targets" cargo build --workspace --all-targets
if ((failed)); then
  summary
  exit 1
fi

# ---- 4. Rust tests, once per real store ---------------------------------------------------
if [[ "${AWSSO_TEST_RUNNER:-}" != cargo ]] && cargo nextest --version >/dev/null 2>&1; then
  rust_tests=(cargo nextest run --workspace --no-fail-fast --no-tests=warn)
  doctests=1
else
  rust_tests=(cargo test --workspace --no-fail-fast)
  doctests=0
fi
rust_tests+=(${runner_args[@]+"${runner_args[@]}"})

# The Secret Service pass also gets a session keyring when there is one, so that the kernel-keyring cache
# in front of the Secret Service (role credentials) is exercised as it runs on a Linux desktop.
ss_tests=("${rust_tests[@]}")
if ((keyutils)); then ss_tests=(keyctl session - "${ss_tests[@]}"); fi
run_step "rust tests: secret-service (${rust_tests[1]})" \
  bash "$lib/with-secret-service.sh" \
  env AWSSO_TEST_STORE=secret-service AWSSO_STORE=secret-service "${ss_tests[@]}" </dev/null

if ((keyutils)); then
  run_step "rust tests: keyutils, no D-Bus (${rust_tests[1]})" \
    bash "$lib/with-keyutils.sh" \
    env AWSSO_TEST_STORE=keyutils AWSSO_STORE=keyutils "${rust_tests[@]}" </dev/null
elif ((quick)); then
  record "rust tests: keyutils" "SKIP (--quick)" 0
else
  record "rust tests: keyutils" "SKIP (UNAVAILABLE)" 0
fi

if ((doctests)) && ((${#runner_args[@]} == 0)); then
  # nextest does not run doctests.
  run_step "rust doctests (cargo test --doc)" cargo test --workspace --doc </dev/null
fi

# ---- 5. Python tests ----------------------------------------------------------------------
pytest_step() {
  local rc=0 cmd=("$venv/bin/pytest" tests/python -q)
  # Both stores are reachable here: the Secret Service (default) and, when usable, keyutils.
  if ((keyutils)); then cmd=(keyctl session - "${cmd[@]}"); fi
  bash "$lib/with-secret-service.sh" \
    env AWSSO_TEST_STORE=secret-service AWSSO_STORE=secret-service "${cmd[@]}" </dev/null || rc=$?
  if ((rc == 5)); then
    warn "pytest collected no tests (exit 5): not counted as a failure"
    pytest_empty=1
    return 0
  fi
  return "$rc"
}
if [[ ! -d tests/python ]]; then
  record "python tests (pytest)" "SKIP (no tests/python)" 0
elif ! venv_ok; then
  warn "no usable .venv (boto3, pytest): Python tests SKIPPED"
  record "python tests (pytest)" "SKIP (no .venv)" 0
else
  pytest_empty=0
  run_step "python tests (pytest tests/python)" pytest_step
  if ((pytest_empty)); then step_results[${#step_results[@]} - 1]="PASS (0 collected)"; fi
fi

# ---- 6. summary ---------------------------------------------------------------------------
summary
exit "$failed"
