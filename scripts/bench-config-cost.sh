#!/usr/bin/env bash
# Issue 11's benchmark: what awsso's generated block costs every AWS client at process start.
#
#   ./scripts/bench-config-cost.sh [--runs N] [--sizes "1000 5000"] [--no-build] [--out FILE]
#
#   1. builds awsso and awsso-sim (dev profile: the generator's own speed is not measured here);
#   2. installs what it runs when missing: the AWS CLI v2 (Debian `awscli`, with apt-get), botocore (pip,
#      into a venv under the temp dir), @smithy/shared-ini-file-loader (npm, into target/bench-node);
#   3. for each size, in a throwaway HOME with a private keyring, lets awsso-sim serve SIZE/2 accounts x 2
#      roles, logs in and runs the real `awsso sync`, once per hint level of the settings file
#      (`hints = full|minimal|none`, the default level first); the "lean" block is the default block with
#      every key but `credential_process` and `region` removed; "none" is the config without any block.
#      Every config also holds `[profile other]` (region us-west-2) outside the block;
#   4. times, for each client, process start to the resolved config of `other` (the block's profiles are
#      all unrelated to it), every variant round-robin, N runs each (default 15), medians:
#        botocore   python3 -c 'import botocore.session; s = botocore.session.Session(profile="other");
#                   s.get_scoped_config()'
#        AWS CLI v2 aws configure get region --profile other
#        JS SDK v3  node -e 'loadSharedConfigFiles()' (from @smithy/shared-ini-file-loader)
#      after checking that each client sees every profile of each config;
#   5. prints the table and writes it to bench-results/config-cost.txt (--out changes that).
#
# "cost" is the time above the config without a block; the ratios are against the lean block of the same
# run, on CPU time (user + system of the client: the work the config makes it do), because the wall time
# on a shared machine also holds the wait for a CPU. Wall medians are reported too.
# Nothing outside the temporary directory and target/ is touched.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=lib/need.sh
source "$repo/scripts/lib/need.sh"

runs=15
sizes="1000 5000"
build=1
out="$repo/bench-results/config-cost.txt"
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --sizes) sizes="$2"; shift ;;
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

aws2=/usr/bin/aws
node_dir="$repo/target/bench-node"
if [[ -z "${AWSSO_BENCH_INNER:-}" ]]; then
  # `aws` on PATH may be the AWS CLI v1 (pip); the Debian package, /usr/bin/aws, is v2.
  need curl python3 python3-venv node npm /usr/bin/aws keyctl || die "cannot install what the benchmark runs"
  if [[ ! -f "$node_dir/node_modules/@smithy/shared-ini-file-loader/package.json" ]]; then
    log "npm install @smithy/shared-ini-file-loader into ${node_dir#"$repo/"}"
    mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-audit --no-fund --silent @smithy/shared-ini-file-loader >/dev/null
  fi
  if ((build)); then
    log "cargo build -p awsso -p awsso-sim"
    (cd "$repo" && cargo build --quiet -p awsso -p awsso-sim)
  fi
  export AWSSO_BENCH_INNER=1
  if bash "$repo/scripts/lib/with-keyutils.sh" --check; then
    export AWSSO_STORE=keyutils
    exec bash "$repo/scripts/lib/with-keyutils.sh" bash "${BASH_SOURCE[0]}" ${args[@]+"${args[@]}"}
  fi
  export AWSSO_STORE=secret-service
  exec bash "$repo/scripts/lib/with-secret-service.sh" bash "${BASH_SOURCE[0]}" ${args[@]+"${args[@]}"} </dev/null
fi

bin="$repo/target/debug"
[[ -x "$bin/awsso" && -x "$bin/awsso-sim" ]] || die "no binaries in $bin (drop --no-build)"
work="$(mktemp -d "${TMPDIR:-/tmp}/awsso-config-cost.XXXXXX")"
export HOME="$work/home" AWS_CONFIG_FILE="$work/home/.aws/config" AWSSO_CACHE_DIR="$work/home/.cache/awsso"
export AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials" AWSSO_CONFIG="$work/awsso-settings"
export AWSSO_KEYRING_SERVICE="awsso-bench-$$" NO_COLOR=1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION AWS_DEFAULT_REGION AWSSO_LISTING_TTL BROWSER DISPLAY WAYLAND_DISPLAY
mkdir -p "$HOME/.aws"
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

python=python3
if ! python3 -c 'import botocore' 2>/dev/null; then
  log "pip install botocore (into a venv under $work)"
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q botocore
  python="$work/venv/bin/python"
fi
botocore_version="$("$python" -c 'import botocore; print(botocore.__version__)')"
aws_version="$("$aws2" --version 2>&1 | awk '{print $1}')"
loader="$node_dir/node_modules/@smithy/shared-ini-file-loader"
loader_version="$(node -p "require('$loader/package.json').version")"

"$bin/awsso-sim" --port 0 --quiet --interval 1 --approve-after-polls 1 --roles 2 >"$work/sim.url" &
sim_pid=$!
for _ in $(seq 200); do
  grep -q '^AWSSO_SIM_URL=' "$work/sim.url" 2>/dev/null && break
  sleep 0.05
done
url="$(sed -n 's/^AWSSO_SIM_URL=//p' "$work/sim.url")"
[[ -n "$url" ]] || die "awsso-sim did not start"
export AWS_ENDPOINT_URL_SSO_OIDC="$url" AWS_ENDPOINT_URL_SSO="$url"
sim_post() { curl -fsS -X POST -H 'content-type: application/json' --data "${2:-{\}}" "$url$1" >/dev/null; }

"$bin/awsso" login --start-url https://d-bench0001.awsapps.com/start --region us-east-1 --no-browser 2>/dev/null
printf '\n[profile other]\nregion = us-west-2\n' >>"$AWS_CONFIG_FILE"
cp "$AWS_CONFIG_FILE" "$work/config.none"

# The default block, and the `hints = full` one when this awsso knows hint levels (`minimal` is the
# default, `none` is the lean block).
levels=(default)
printf '[defaults]\nhints = full\n' >"$AWSSO_CONFIG"
if "$bin/awsso" sync --dry-run >/dev/null 2>&1; then levels=(default full); fi
rm -f "$AWSSO_CONFIG"

# The default block with only credential_process and region left (and the section headers, blank lines
# and the block's marker comments).
lean_of() {
  python3 -c '
import sys
out, inside = [], False
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("# BEGIN awsso managed block"): inside = True
    elif s.startswith("# END awsso managed block"): inside = False
    elif inside and s and not s.startswith(("[", "#", ";")):
        if s.split("=", 1)[0].strip() not in ("credential_process", "region"): continue
    out.append(line)
sys.stdout.write("".join(out))' "$1"
}
keys_per_profile() { # CONFIG: mean number of keys per profile of the block
  python3 -c '
import sys
p = k = 0
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("[profile ") and s != "[profile other]": p += 1
    elif p and s and "=" in s and not s.startswith(("#", ";")): k += 1
print(f"{(k - 1) / p:.1f}")' "$1"
}

spec_sizes="{" expect="{" sep=""
declare -A bytes keys
for size in $sizes; do
  log "$size profiles: awsso sync (${levels[*]})"
  sim_post /_sim/config "{\"accounts\": $((size / 2)), \"roles_per_account\": 2}"
  variants="\"none\": \"$work/config.none\""
  counts="\"none\": 1"
  for level in "${levels[@]}"; do
    cp "$work/config.none" "$AWS_CONFIG_FILE"
    if [[ "$level" == default ]]; then rm -f "$AWSSO_CONFIG"; else printf '[defaults]\nhints = %s\n' "$level" >"$AWSSO_CONFIG"; fi
    "$bin/awsso" sync --refresh 2>/dev/null
    n="$(grep -c '^\[profile ' "$AWS_CONFIG_FILE")"
    [[ "$n" == $((size + 1)) ]] || die "sync wrote $((n - 1)) profiles, expected $size"
    cp "$AWS_CONFIG_FILE" "$work/config.$level.$size"
    if [[ "$level" == default ]]; then
      lean_of "$work/config.default.$size" >"$work/config.lean.$size"
      variants+=", \"lean\": \"$work/config.lean.$size\""
      counts+=", \"lean\": $((size + 1))"
      bytes[lean.$size]="$(wc -c <"$work/config.lean.$size")"
      keys[lean.$size]="$(keys_per_profile "$work/config.lean.$size")"
    fi
    variants+=", \"$level\": \"$work/config.$level.$size\""
    counts+=", \"$level\": $((size + 1))"
    bytes[$level.$size]="$(wc -c <"$work/config.$level.$size")"
    keys[$level.$size]="$(keys_per_profile "$work/config.$level.$size")"
  done
  rm -f "$AWSSO_CONFIG"
  bytes[none.$size]="$(wc -c <"$work/config.none")"
  keys[none.$size]="-"
  spec_sizes+="$sep\"$size\": {$variants}"
  expect+="$sep\"$size\": {$counts}"
  sep=", "
done
spec_sizes+="}" expect+="}"

cat >"$work/spec.json" <<EOF
{
  "tools": {
    "botocore": {
      "time": ["$python", "-c", "import botocore.session; s = botocore.session.Session(profile='other'); assert s.get_scoped_config()['region'] == 'us-west-2'"],
      "count": ["$python", "-c", "import botocore.session; print(len(botocore.session.Session().full_config['profiles']))"]
    },
    "aws-cli-v2": {
      "time": ["$aws2", "configure", "get", "region", "--profile", "other"],
      "count": ["sh", "-c", "'$aws2' configure list-profiles | wc -l"]
    },
    "js-sdk-v3": {
      "time": ["node", "-e", "require('$loader').loadSharedConfigFiles().then(c => { if (c.configFile.other.region !== 'us-west-2') process.exit(3) })"],
      "count": ["node", "-e", "require('$loader').loadSharedConfigFiles().then(c => console.log(Object.keys(c.configFile).filter(k => !k.startsWith('sso-session.')).length))"]
    }
  },
  "sizes": $spec_sizes,
  "expect": $expect
}
EOF
log "timing: $runs runs per client, size and variant, round-robin"
"$python" "$repo/scripts/bench/config_cost.py" --runs "$runs" --spec "$work/spec.json" >"$work/result.json"

commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain -- src 2>/dev/null)" ]]; then commit="$commit+dirty"; fi
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
{
  echo "awsso issue 11 benchmark: ./scripts/bench-config-cost.sh --runs $runs --sizes \"$sizes\""
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit, $(nproc) cpus (${cpu:-unknown}), machine shared with other jobs"
  echo "clients: botocore $botocore_version, $aws_version (Debian), @smithy/shared-ini-file-loader $loader_version on node $(node --version)"
  echo "time: process start to the resolved config of [profile other], outside the block; median of $runs runs,"
  echo "variants timed round-robin. cost = time - time without any block. Ratios against the lean block"
  echo "(credential_process + region only) of the same run."
  echo
  for k in "${!bytes[@]}"; do echo "$k ${bytes[$k]} ${keys[$k]}"; done >"$work/files.txt"
  python3 - "$work/result.json" "$work/files.txt" "${levels[@]}" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
files = {}
for line in open(sys.argv[2]):
    k, b, kp = line.split()
    files[k] = (int(b), kp)
levels = sys.argv[3:]
variants = ["none", "lean"] + levels
sizes = list(next(iter(result.values())).keys())
print("config files (profiles of the block, keys per profile, bytes):")
for size in sizes:
    for v in variants:
        b, kp = files[f"{v}.{size}"]
        label = "awsso " + v if v in levels else v
        print(f"  {size:>5} {label:<16} {kp:>4} keys  {b:>9} bytes")
print()
print("CPU time (user + system of the client process; what parsing costs, whatever the machine's load):")
print(f"{'client':<11} {'profiles':>8}  {'variant':<15} {'median':>9} {'cost':>9}  {'cost/lean':>9}  {'time/lean':>9}")
def table(key, ratios=True):
    for tool, per_size in result.items():
        for size, t in per_size.items():
            none, lean = t["none"][key], t["lean"][key]
            for v in variants:
                label = "awsso " + v if v in levels else v
                cost = t[v][key] - none
                shown = ""
                if v in levels and ratios:
                    shown = f"{cost / (lean - none):>9.2f}  {t[v][key] / lean:>9.2f}"
                print(f"{tool:<11} {size:>8}  {label:<15} {t[v][key] * 1000:>6.0f} ms {cost * 1000:>+6.0f} ms  {shown}".rstrip())
        print()
table("cpu")
print("Wall time (the same runs; includes waiting for a CPU on a shared machine, so no ratios):")
table("wall", ratios=False)
EOF
} | tee "$work/report.txt"
mkdir -p "$(dirname "$out")"
cp "$work/report.txt" "$out"
ok "written to ${out#"$repo/"}"
