# What the benchmarks scripts/bench-{creds,picker,prompt}.sh share: the release build, re-entering under a
# private Secret Service and a kernel session keyring, an isolated user with the simulator on loopback, and
# the lines of a results header. Source it from a script that has set `repo`; it sources common.sh and
# need.sh. The functions set and read these globals: target (the release directory), work, load_before,
# sim_pid, url.
# shellcheck shell=bash

_bench_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$_bench_lib/common.sh"
# shellcheck source=need.sh
source "$_bench_lib/need.sh"

target="${CARGO_TARGET_DIR:-$repo/target}/release"
# The benchmark that sourced this (a scripts/bench-*.sh), by its absolute path: it may have changed directory.
_bench_self="$repo/scripts/${BASH_SOURCE[-1]##*/}"

# bench_help FILE: prints the benchmark FILE's header comment (its usage).
bench_help() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$1"; }

# bench_option ARGS...: the options every benchmark takes, for its own option loop: --no-build (build=0),
# --out FILE (out), -h/--help (its header comment); dies on any other. Sets bench_shift to the words taken.
bench_option() {
  case "$1" in
    --no-build) build=0 bench_shift=1 ;;
    --out) out="$(realpath -m "$2")" bench_shift=2 ;;
    -h | --help)
      bench_help "$_bench_self"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
}

# bench_build BUILD: release-builds awsso and awsso-sim when BUILD is 1; fails when they are not there.
bench_build() {
  if (($1)); then
    log "cargo build --release -p awsso -p awsso-sim"
    cargo build --release -p awsso -p awsso-sim
  fi
  [[ -x "$target/awsso" && -x "$target/awsso-sim" ]] || die "no release binaries in $target (drop --no-build)"
}

# bench_inner: true when running re-entered (bench_reenter), from then on not inherited by children.
bench_inner() {
  [[ -n "${_AWSSO_BENCH_INNER:-}" ]] || return 1
  unset _AWSSO_BENCH_INNER
}

# bench_reenter SELF ARGS...: runs the benchmark SELF with ARGS again (never returns) inside a private
# unlocked Secret Service and a fresh kernel session keyring, where bench_inner is true.
bench_reenter() {
  local self="$1"
  shift
  need keyctl || die "cannot install what the benchmark runs"
  exec bash "$_bench_lib/with-secret-service.sh" \
    keyctl session - env _AWSSO_BENCH_INNER=1 bash "$self" "$@" </dev/null
}

# bench_isolate: a work directory and an isolated user in it (HOME, AWS config, cache dir, keyring
# namespace, the Secret Service as the store, no AWS variables of the caller). On exit: the script's
# bench_extra_cleanup when it defines one, logout, the simulator stopped, the work directory removed.
bench_isolate() {
  load_before="$(bench_load)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/awsso-bench.XXXXXX")"
  sim_pid=""
  trap _bench_cleanup EXIT
  export HOME="$work/home"
  mkdir -p "$HOME/.aws"
  export AWS_CONFIG_FILE="$HOME/.aws/config"
  export AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
  export AWSSO_CACHE_DIR="$HOME/.cache/awsso"
  export AWSSO_KEYRING_SERVICE="awsso-bench-$$"
  export AWSSO_STORE=secret-service
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_CREDENTIAL_EXPIRATION AWS_ENDPOINT_URL AWSSO_NO_KEYUTILS_CACHE AWSSO_PROFILE NO_COLOR RUST_LOG
}

_bench_cleanup() {
  if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
  if [[ -n "$sim_pid" ]]; then
    "$target/awsso" logout --all >/dev/null 2>&1 || true
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}

# bench_start_sim ARGS...: starts `awsso-sim --port 0 --quiet ARGS`, sets sim_pid and url, and points awsso
# (AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC) at it.
bench_start_sim() {
  "$target/awsso-sim" --port 0 --quiet "$@" >"$work/sim.out" 2>"$work/sim.err" &
  sim_pid=$!
  for _ in $(seq 200); do
    grep -q '^AWSSO_SIM_URL=' "$work/sim.out" 2>/dev/null && break
    sleep 0.05
  done
  url="$(sed -n 's/^AWSSO_SIM_URL=//p' "$work/sim.out")"
  [[ -n "$url" ]] || die "awsso-sim did not start: $(cat "$work/sim.err")"
  export AWS_ENDPOINT_URL_SSO="$url" AWS_ENDPOINT_URL_SSO_OIDC="$url"
}

# For a results header: the machine, its load average now, the commit measured (+dirty with changes).
bench_machine() {
  echo "$(nproc) cpu(s), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
}
bench_load() { cut -d' ' -f1-3 /proc/loadavg; }
bench_rev() {
  echo "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet 2>/dev/null || echo '+dirty')"
}

# bench_ratio A B: A / B with two decimals.
bench_ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
