#!/usr/bin/env bash
# `awsso prompt` latency (issue 10: < 5 ms), against `awsso --version` measured in the same run (the cost of
# starting the binary at all). Usage: scripts/bench-prompt.sh [--runs N] [--no-build] [--out FILE]
#
#   1. builds the release binaries (unless --no-build) and re-enters under a private Secret Service and a
#      kernel session keyring;
#   2. starts awsso-sim with 400 accounts, logs in, `awsso sync`s (a config of ~1,200 profiles, as a big
#      organisation has) and fetches one role's credentials, so the kernel-keyring cache holds them;
#   3. hyperfine -N: `awsso --version`, then `awsso prompt` with AWS_PROFILE set (config parse + cache read),
#      then `awsso prompt` with nothing active; checks no upstream call was made;
#   4. writes bench-results/prompt.txt: medians, p95, the ratio to --version, and whether the median is
#      under the 5 ms bound.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=lib/need.sh
source "$repo/scripts/lib/need.sh"

runs=300
build=1
out="$repo/bench-results/prompt.txt"
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --no-build) build=0 ;;
    --out) out="$(realpath -m "$2")"; shift ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
target="${CARGO_TARGET_DIR:-$repo/target}/release"

if [[ -z "${_AWSSO_BENCH_INNER:-}" ]]; then
  if ((build)); then
    log "cargo build --release -p awsso -p awsso-sim"
    cargo build --release -p awsso -p awsso-sim
  fi
  [[ -x "$target/awsso" && -x "$target/awsso-sim" ]] || die "no release binaries in $target (drop --no-build)"
  need hyperfine keyctl curl jq || die "cannot install what the benchmark runs"
  exec bash "$repo/scripts/lib/with-secret-service.sh" \
    keyctl session - env _AWSSO_BENCH_INNER=1 bash "${BASH_SOURCE[0]}" "${args[@]}" </dev/null
fi
unset _AWSSO_BENCH_INNER

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
work="$(mktemp -d "${TMPDIR:-/tmp}/awsso-bench.XXXXXX")"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    "$target/awsso" logout --all >/dev/null 2>&1 || true
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export HOME="$work/home"
mkdir -p "$HOME/.aws"
export AWS_CONFIG_FILE="$HOME/.aws/config"
export AWSSO_CACHE_DIR="$HOME/.cache/awsso"
export AWSSO_KEYRING_SERVICE="awsso-bench-$$"
export AWSSO_STORE=secret-service
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWSSO_NO_KEYUTILS_CACHE AWSSO_PROFILE AWS_CREDENTIAL_EXPIRATION NO_COLOR RUST_LOG

"$target/awsso-sim" --port 0 --quiet --accounts 400 --roles 3 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 200); do
  grep -q '^AWSSO_SIM_URL=' "$work/sim.out" 2>/dev/null && break
  sleep 0.05
done
url="$(sed -n 's/^AWSSO_SIM_URL=//p' "$work/sim.out")"
[[ -n "$url" ]] || die "awsso-sim did not start: $(cat "$work/sim.err")"
export AWS_ENDPOINT_URL_SSO="$url" AWS_ENDPOINT_URL_SSO_OIDC="$url"
calls() { curl -fsS "$url/_sim/stats" | jq '[.[]] | add // 0'; }
awsso="$target/awsso"

log "logging in and syncing 400 accounts x 3 roles"
"$awsso" login --start-url https://d-bench00010.awsapps.com/start --region eu-west-1 --no-browser >/dev/null
"$awsso" sync >/dev/null 2>&1
profiles="$(grep -c '^\[profile ' "$AWS_CONFIG_FILE")"
profile="$("$awsso" ls 2>/dev/null | awk -F'\t' 'NR==200{print $1}')"
[[ -n "$profile" ]] || die "no profile listed"
"$awsso" creds --profile "$profile" | jq -e .AccessKeyId >/dev/null
segment="$(AWS_PROFILE="$profile" "$awsso" prompt)"
[[ "$segment" == *"$profile"*m* ]] || die "the prompt shows no time left: $segment"

before="$(calls)"
hf=(hyperfine -N --style basic --warmup 20 --runs "$runs")
log "awsso --version ($runs runs)"
"${hf[@]}" --export-json "$work/version.json" "$awsso --version"
log "awsso prompt, AWS_PROFILE set ($runs runs)"
AWS_PROFILE="$profile" "${hf[@]}" --export-json "$work/prompt.json" "$awsso prompt"
log "awsso prompt, no profile ($runs runs)"
"${hf[@]}" --export-json "$work/idle.json" "$awsso prompt"
[[ "$(calls)" == "$before" ]] || die "awsso prompt made upstream calls"

stat() { # file -> "median_ms p95_ms"
  jq -r '.results[0].times | sort | [.[(length/2|floor)], .[(length*0.95|floor)]] | map(. * 1000) |
    map(. * 100 | round / 100) | "\(.[0]) \(.[1])"' "$1"
}
read -r v_med v_p95 <<<"$(stat "$work/version.json")"
read -r p_med p_p95 <<<"$(stat "$work/prompt.json")"
read -r i_med i_p95 <<<"$(stat "$work/idle.json")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
under() { awk -v a="$1" 'BEGIN{print (a < 5.0) ? "yes" : "NO"}'; }
mkdir -p "$(dirname "$out")"
{
  echo "# awsso prompt: latency per shell prompt (issue 10: < 5 ms), against awsso --version in the same run"
  echo "# generated by: scripts/bench-prompt.sh --runs $runs   ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  echo "# machine: $(nproc) cpu(s), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr);" \
    "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (shared with other work)"
  echo "# awsso $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo" diff --quiet 2>/dev/null || echo '+dirty') release build;" \
    "config with $profiles profiles; store: Secret Service + kernel-keyring cache; hyperfine -N (no shell)."
  echo "# 0 upstream calls during the runs; the Secret Service is not asked (see tests/prompt.rs)."
  echo
  printf '%-34s %10s %10s %14s %8s\n' case median_ms p95_ms "vs --version" "< 5 ms"
  printf '%-34s %10s %10s %14s %8s\n' "awsso --version" "$v_med" "$v_p95" "1.00" "$(under "$v_med")"
  printf '%-34s %10s %10s %14s %8s\n' "awsso prompt (AWS_PROFILE set)" "$p_med" "$p_p95" "$(ratio "$p_med" "$v_med")" "$(under "$p_med")"
  printf '%-34s %10s %10s %14s %8s\n' "awsso prompt (no profile)" "$i_med" "$i_p95" "$(ratio "$i_med" "$v_med")" "$(under "$i_med")"
} >"$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
ok "wrote $out"
