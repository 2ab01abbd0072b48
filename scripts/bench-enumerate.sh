#!/usr/bin/env bash
# Issue 3's benchmark: enumerate a large organisation against the simulator and write 10,000 profiles.
#
#   ./scripts/bench-enumerate.sh [--runs N] [--quick] [--no-build] [--out FILE]
#
#   1. builds release binaries (cargo build --release -p awsso -p awsso-sim; ~3 min the first time);
#   2. in a throwaway HOME with a private keyring (kernel keyring when usable, else a private
#      gnome-keyring), starts awsso-sim with 2,000 accounts x 3 roles and 50 ms latency per call, logs in,
#      and times N pairs (default 5) of `awsso ls --refresh --json > /dev/null`: a first scan with nothing
#      remembered (it ramps up to the concurrency) and a rescan (it starts at the pace the first reached):
#      wall time (medians) against the lower bound calls x latency / concurrency;
#   3. 400 accounts x 3 roles (the scan issue 11 names) with the simulator limited to 20 calls/s, with a
#      token bucket (burst 20) and with a strict sliding one-second window, N pairs of scans each: a first
#      scan with no limit remembered, then a rescan paced at the limit it learnt; wall time against
#      calls / 20 and the share of calls answered 429 (medians and ranges);
#   4. 2,500 accounts x 4 roles, no latency: one scan to warm the listing cache, then `awsso sync`
#      writing 10,000 profiles (median of N, the config restored between runs) and a no-op second sync;
#   5. prints a table and writes it to bench-results/enumerate.txt (--out changes that).
#
# Options: --runs N (scans and syncs per scenario), --quick (skip the rate-limited scans, ~90 s per run),
#   --no-build (use the release binaries as they are). AWSSO_CONCURRENCY is passed on to awsso (default 16).
# Calls are counted by the simulator (GET /_sim/stats). Nothing outside the temporary directory is touched.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/bench.sh
source "$repo/scripts/lib/bench.sh"

runs=5
quick=0
build=1
out="$repo/bench-results/enumerate.txt"
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    -h | --help) bench_help "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

if [[ -z "${AWSSO_BENCH_INNER:-}" ]]; then
  need curl python3 || die "cannot install what the benchmark runs"
  if ((build)); then
    log "cargo build --release -p awsso -p awsso-sim"
    (cd "$repo" && cargo build --release --quiet -p awsso -p awsso-sim)
  fi
  export AWSSO_BENCH_INNER=1
  # A private keyring, so that no real login is touched: the kernel keyring when usable (fastest, no
  # D-Bus), else a private unlocked gnome-keyring.
  if bash "$repo/scripts/lib/with-keyutils.sh" --check; then
    export AWSSO_STORE=keyutils
    exec bash "$repo/scripts/lib/with-keyutils.sh" bash "${BASH_SOURCE[0]}" ${args[@]+"${args[@]}"}
  fi
  export AWSSO_STORE=secret-service
  exec bash "$repo/scripts/lib/with-secret-service.sh" bash "${BASH_SOURCE[0]}" ${args[@]+"${args[@]}"} </dev/null
fi

bin="$repo/target/release"
[[ -x "$bin/awsso" && -x "$bin/awsso-sim" ]] || die "no release binaries in $bin (drop --no-build)"
work="$(mktemp -d "${TMPDIR:-/tmp}/awsso-bench.XXXXXX")"
export HOME="$work/home" AWS_CONFIG_FILE="$work/home/.aws/config" AWSSO_CACHE_DIR="$work/home/.cache/awsso"
export AWSSO_KEYRING_SERVICE="awsso-bench-$$" NO_COLOR=1
unset AWS_PROFILE AWSSO_LISTING_TTL AWSSO_CONFIG BROWSER DISPLAY WAYLAND_DISPLAY
mkdir -p "$HOME/.aws"
concurrency="${AWSSO_CONCURRENCY:-16}"
sim_pid=""
cleanup() {
  "$bin/awsso" logout --all >/dev/null 2>&1 || true
  if [[ -n "$sim_pid" ]]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- helpers ------------------------------------------------------------------------------------
start_sim() { target="$bin" bench_start_sim --interval 1 --approve-after-polls 1 "$@"; } # sets $url
sim_post() { curl -fsS -X POST -H 'content-type: application/json' --data "${2:-{\}}" "$url$1" >/dev/null; }
stat_of() { # OP: one counter of the simulator
  curl -fsS "$url/_sim/stats" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd' ' | sed 's/ / to /'; } # min to max
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
timed() { # CMD...: runs CMD with stdout to /dev/null, prints the wall seconds; fails if CMD fails
  local t0 t1
  t0="$(now)"
  "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; die "failed: $*"; }
  t1="$(now)"
  elapsed "$t0" "$t1"
}
rows() { "$bin/awsso" ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

results=()
row() { results+=("$(printf '%-44s %s' "$1" "$2")"); }

# ---- 1. 2,000 accounts x 3 roles, 50 ms per call --------------------------------------------------
log "scenario 1: 2,000 accounts x 3 roles, 50 ms latency, concurrency $concurrency, $runs pairs of scans"
start_sim --accounts 2000 --roles 3 --latency-ms 50
"$bin/awsso" login --start-url https://d-bench0001.awsapps.com/start --region us-east-1 --no-browser 2>/dev/null
# Each run is a pair of scans: a first scan (nothing remembered: it ramps up to the concurrency in waves)
# and a rescan (started at the pace the first one reached unthrottled: no ramp).
firsts=() agains=()
for i in $(seq "$runs"); do
  for which in first again; do
    [[ "$which" == first ]] && rm -f "$AWSSO_CACHE_DIR"/listings/*.pace
    sim_post /_sim/reset-counts
    t="$(timed "$bin/awsso" ls --refresh --json)"
    if [[ "$which" == first ]]; then firsts+=("$t"); else agains+=("$t"); fi
    la="$(stat_of ListAccounts)" lr="$(stat_of ListAccountRoles)" th="$(stat_of Throttled)"
    log "  $which scan $i: $t s, $la ListAccounts + $lr ListAccountRoles calls, $th throttled"
  done
done
pairs="$(rows)"
[[ "$pairs" == 6000 ]] || die "expected 6000 account x role pairs, got $pairs"
calls=$((la + lr))
first="$(median "${firsts[@]}")" again="$(median "${agains[@]}")"
bound="$(calc "$calls * 0.050 / $concurrency" 3)"
row "1. scan 2000x3, 50 ms latency" ""
row "   pairs listed" "$pairs"
row "   portal calls" "$calls ($la ListAccounts pages + $lr ListAccountRoles)"
row "   concurrency (AWSSO_CONCURRENCY)" "$concurrency"
row "   lower bound calls x 50 ms / concurrency" "$bound s"
row "   first scan (ramps up), median of $runs" "$first s (runs: ${firsts[*]})"
row "     wall / lower bound" "$(calc "$first / $bound")"
row "   rescan (pace remembered), median of $runs" "$again s (runs: ${agains[*]})"
row "     wall / lower bound" "$(calc "$again / $bound")"
row "   the ramp's cost (first - rescan)" "$(calc "1000 * ($first - $again)" 0) ms"

# ---- 2. 400 accounts x 3 roles under a 20 calls/s limit, for both kinds of limiter --------------------
# Each run is a pair of scans: a first scan (no limit remembered: it starts unpaced and meets the limit
# with a burst) and a rescan (paced from its first call at the limit the first one learnt).
if ((quick)); then
  row "2. scan under 20 calls/s" "skipped (--quick)"
else
  sim_post /_sim/config '{"accounts": 400, "roles_per_account": 3}'
  scan_limited() { # KIND WHICH: one scan, appended to the arrays WHICH_ratios, WHICH_shares, WHICH_counts
    local -n ratios_="${2}_ratios" shares_="${2}_shares" counts_="${2}_counts"
    sleep 1.5 # a full bucket (an empty window) to start from, as a portal that was idle
    sim_post /_sim/reset-counts
    local wall la lr th pairs
    wall="$(timed "$bin/awsso" ls --refresh --json)"
    la="$(stat_of ListAccounts)" lr="$(stat_of ListAccountRoles)" th="$(stat_of Throttled)"
    calls_admitted=$((la + lr - th))
    pairs="$(rows)"
    [[ "$pairs" == 1200 ]] || die "expected 1200 account x role pairs, got $pairs"
    ratios_+=("$(calc "$wall / ($calls_admitted / 20)" 3)")
    shares_+=("$(calc "100 * $th / ($calls_admitted + $th)" 1)")
    counts_+=("$th")
    log "  $1, $2 scan: $wall s, $calls_admitted calls admitted, $th answered 429"
  }
  report_limited() { # WHICH LABEL
    local -n ratios_="${1}_ratios" shares_="${1}_shares" counts_="${1}_counts"
    row "   $2, median of $runs" ""
    row "     wall / lower bound (goal <= 1.10)" "$(median "${ratios_[@]}") (range $(spread "${ratios_[@]}"); runs: ${ratios_[*]})"
    row "     calls answered 429 (goal < 2%)" "$(median "${shares_[@]}")% (range $(spread "${shares_[@]}"); runs: ${counts_[*]} calls)"
  }
  for kind in token-bucket sliding-window; do
    log "scenario 2: 400 accounts x 3 roles limited to 20 calls/s, $kind, $runs pairs of scans (~45 s each)"
    sim_post /_sim/config "{\"rate_limit\": 20, \"rate_limit_kind\": \"$kind\"}"
    first_ratios=() first_shares=() first_counts=() again_ratios=() again_shares=() again_counts=()
    for i in $(seq "$runs"); do
      rm -f "$AWSSO_CACHE_DIR"/listings/*.pace # forget the limit learnt
      scan_limited "$kind" first
      scan_limited "$kind" again
    done
    row "2. scan 400x3, 50 ms latency, 20 calls/s, $kind" ""
    row "   portal calls answered" "$calls_admitted (lower bound calls / 20 per s: $(calc "$calls_admitted / 20" 1) s)"
    report_limited first "first scan (no limit remembered)"
    report_limited again "rescan (limit remembered)"
  done
  sim_post /_sim/config '{"rate_limit": null, "rate_limit_kind": "token-bucket"}'
fi

# ---- 3. 10,000 profiles ---------------------------------------------------------------------------
log "scenario 3: 2,500 accounts x 4 roles, no latency: sync 10,000 profiles"
sim_post /_sim/config '{"accounts": 2500, "roles_per_account": 4, "latency_ms": 0, "rate_limit": null}'
# Scenario 2 left a limit of 20 calls/s remembered, which this portal no longer enforces: what that costs.
stale=""
if compgen -G "$AWSSO_CACHE_DIR/listings/*.pace" >/dev/null; then
  stale="$(timed "$bin/awsso" ls --refresh --json)"
  rm -f "$AWSSO_CACHE_DIR"/listings/*.pace
fi
scan="$(timed "$bin/awsso" ls --refresh --json)"
cp "$AWS_CONFIG_FILE" "$work/config.before"
sim_post /_sim/reset-counts
firsts=()
for i in $(seq "$runs"); do
  cp "$work/config.before" "$AWS_CONFIG_FILE"
  firsts+=("$(timed "$bin/awsso" sync)")
done
net="$(curl -fsS "$url/_sim/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).values()))')"
profiles="$(grep -c '^\[profile ' "$AWS_CONFIG_FILE")"
[[ "$profiles" == 10000 ]] || die "expected 10000 profiles, got $profiles"
size="$(wc -c <"$AWS_CONFIG_FILE")"
lines="$(wc -l <"$AWS_CONFIG_FILE")"
noops=()
for i in $(seq "$runs"); do
  noops+=("$(timed "$bin/awsso" sync)")
done
grep -q 'already up to date' "$work/last.err" || die "the second sync was not a no-op: $(cat "$work/last.err")"
# A sync that rewrites the whole 10,000-profile block in place (a new template renames every profile).
rewrites=()
for i in $(seq "$runs"); do
  t=$((i % 2 == 1 ? 1 : 0))
  if ((t)); then rewrites+=("$(timed "$bin/awsso" sync --template '{account_id}/{role_name}')")
  else rewrites+=("$(timed "$bin/awsso" sync)"); fi
done
row "3. 10,000 profiles (2500x4), latency 0" ""
row "   scan (cache warm-up), 2,504 calls" "$scan s"
[[ -n "$stale" ]] && row "   the same, 20 calls/s remembered, unenforced" "$stale s (a stale limit is probed away slowly)"
row "   config written" "$profiles profiles, $lines lines, $size bytes"
row "   first sync, median of $runs" "$(median "${firsts[@]}") s (runs: ${firsts[*]})"
row "   portal calls during the syncs" "$net (listing cache)"
row "   no-op sync, median of $runs" "$(median "${noops[@]}") s (runs: ${noops[*]})"
row "   full rewrite (all renamed), median" "$(median "${rewrites[@]}") s (runs: ${rewrites[*]})"

# ---- report -------------------------------------------------------------------------------------
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain -- src crates 2>/dev/null)" ]]; then commit="$commit+dirty"; fi
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
{
  echo "awsso issues 3 and 11 benchmark: ./scripts/bench-enumerate.sh --runs $runs$( ((quick)) && echo ' --quick')"
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit, $(nproc) cpus (${cpu:-unknown}), store $AWSSO_STORE"
  echo "release build; awsso and awsso-sim on one machine over loopback (the simulator runs 2 worker threads)"
  echo
  printf '%s\n' "${results[@]}"
} | tee "$work/report.txt"
mkdir -p "$(dirname "$out")"
cp "$work/report.txt" "$out"
ok "written to $out"
