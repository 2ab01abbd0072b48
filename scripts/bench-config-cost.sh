#!/usr/bin/env bash
# Issue 11's benchmark: what awsso's generated block costs every AWS client at process start.
#
#   ./scripts/bench-config-cost.sh [--runs N] [--parse-reps R] [--parse-budget S] [--parse-rounds K]
#                                  [--sizes "1000 5000"] [--no-build] [--out FILE]
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
#      all unrelated to it), every variant round-robin, N runs each (default 11, after one warm-up
#      round), median and minimum:
#        botocore   python3 -c 'import botocore.session; s = botocore.session.Session(profile="other");
#                   s.get_scoped_config()'
#        AWS CLI v2 aws configure get region --profile other
#        JS SDK v3  node -e 'loadSharedConfigFiles()' (from @smithy/shared-ini-file-loader)
#      after checking that each client sees every profile of each config; then the parse alone:
#      K processes per client and size (default 3), each loading every variant's config in turn, round
#      after round, at least R rounds (default 15) and more until the loads add up to S CPU seconds a
#      variant on average (default 1.5, so that a 5 ms load is timed hundreds of times; the committed
#      results use 6, for 90% ranges of about +-0.03), with a fresh loader after one untimed load and a
#      garbage collection before each (node runs with --expose-gc and --single-threaded), timed
#      inside the process (scripts/bench/config_parse.{py,cjs}): the same
#      work without the interpreter's start-up, whose noise on a shared machine is larger than the
#      difference between two blocks, and with the variants interleaved load by load, so that the
#      machine's drift falls on all of them alike;
#   5. prints the table and writes it to bench-results/config-cost.txt (--out changes that).
#
# "cost" is the time above the config without a block; the ratios are against the lean block of the same
# run, on CPU time (user + system of the client: the work the config makes it do), because the wall time
# on a shared machine also holds the wait for a CPU. Two ratios per cell, on the median and on the
# minimum of the runs: cost/lean (the block's cost above no block, over the lean block's; the goal is
# <= 1.25 for the default block) and time/lean (the whole process). The median cost/lean also gets its
# 90% range, from a bootstrap over whole rounds, and the verdict comes from those ranges: met when every
# cell's range is at or below 1.25, not met when one is above, else not resolved by the run's noise.
# Wall medians are reported too.
# Nothing outside the temporary directory and target/ is touched.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/bench.sh
source "$repo/scripts/lib/bench.sh"

runs=11
reps=15
budget=1.5
rounds=3
sizes="1000 5000"
build=1
out="$repo/bench-results/config-cost.txt"
args=("$@")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --parse-reps) reps="$2"; shift ;;
    --parse-budget) budget="$2"; shift ;;
    --parse-rounds) rounds="$2"; shift ;;
    --sizes) sizes="$2"; shift ;;
    --no-build) build=0 ;;
    --out) out="$2"; shift ;;
    -h | --help) bench_help "${BASH_SOURCE[0]}"; exit 0 ;;
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
# The interpreter of the AWS CLI's script (its `#!` line), which imports the CLI's own botocore.
aws_python="$(sed -n '1s/^#! *//p' "$aws2")"
[[ -x "$aws_python" ]] || die "cannot find the Python of $aws2"
loader_version="$(node -p "require('$loader/package.json').version")"

target="$bin" bench_start_sim --interval 1 --approve-after-polls 1 --roles 2
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

# The default block as a peer would write it: the block's marker lines and [sso-session], and per
# profile its header, credential_process and region, sections separated by a blank line; every other
# line of the block (hint keys, name comments, blank lines) dropped.
lean_of() {
  python3 -c '
import sys
out, inside, first, profile = [], False, True, False
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("# BEGIN awsso managed block"): inside, first = True, True
    elif s.startswith("# END awsso managed block"): inside = False
    elif inside:
        if s.startswith("["):
            if not first: out.append("\n")
            first, profile = False, s.startswith("[profile ")
        elif not s or s.startswith(("#", ";")): continue
        elif profile and s.split("=", 1)[0].strip() not in ("credential_process", "region"): continue
    out.append(line)
sys.stdout.write("".join(out))' "$1"
}
# The default block with every comment line inside it (but the markers) turned into a blank line.
uncommented_of() {
  python3 -c '
import sys
out, inside = [], False
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("# BEGIN awsso managed block"): inside = True
    elif s.startswith("# END awsso managed block"): inside = False
    elif inside and s.startswith("#"): line = "\n"
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
declare -A bytes lines keys
# variant NAME: config.NAME.$size joins the spec (its path, the profile count every client must see) and the
# table of sizes (bytes, lines, keys per profile).
variant() {
  local f="$work/config.$1.$size"
  variants+=", \"$1\": \"$f\""
  counts+=", \"$1\": $((size + 1))"
  bytes[$1.$size]="$(wc -c <"$f")"
  lines[$1.$size]="$(wc -l <"$f")"
  keys[$1.$size]="$(keys_per_profile "$f")"
}
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
      # What the default block's name comments cost: the same block with each one a blank line.
      uncommented_of "$work/config.default.$size" >"$work/config.uncommented.$size"
      variant lean
      variant uncommented
    fi
    variant "$level"
  done
  rm -f "$AWSSO_CONFIG"
  bytes[none.$size]="$(wc -c <"$work/config.none")"
  lines[none.$size]="$(wc -l <"$work/config.none")"
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
      "count": ["$python", "-c", "import botocore.session; print(len(botocore.session.Session().full_config['profiles']))"],
      "parse": ["$python", "$repo/scripts/bench/config_parse.py", "botocore", "$reps", "$budget"]
    },
    "aws-cli-v2": {
      "time": ["$aws2", "configure", "get", "region", "--profile", "other"],
      "count": ["sh", "-c", "'$aws2' configure list-profiles | wc -l"],
      "parse": ["$aws_python", "$repo/scripts/bench/config_parse.py", "awscli", "$reps", "$budget"]
    },
    "js-sdk-v3": {
      "time": ["node", "-e", "require('$loader').loadSharedConfigFiles().then(c => { if (c.configFile.other.region !== 'us-west-2') process.exit(3) })"],
      "count": ["node", "-e", "require('$loader').loadSharedConfigFiles().then(c => console.log(Object.keys(c.configFile).filter(k => !k.startsWith('sso-session.')).length))"],
      "parse": ["node", "--expose-gc", "--single-threaded", "$repo/scripts/bench/config_parse.cjs", "$loader", "$reps", "$budget"]
    }
  },
  "sizes": $spec_sizes,
  "expect": $expect
}
EOF
log "timing: $runs runs per client, size and variant, round-robin"
"$python" "$repo/scripts/bench/config_cost.py" --runs "$runs" --warmup 1 --parse-rounds "$rounds" \
  --spec "$work/spec.json" >"$work/result.json"

commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain -- src 2>/dev/null)" ]]; then commit="$commit+dirty"; fi
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
{
  echo "awsso issue 11 benchmark: ./scripts/bench-config-cost.sh --runs $runs --parse-reps $reps --parse-budget $budget --parse-rounds $rounds --sizes \"$sizes\""
  echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $commit, $(nproc) cpus (${cpu:-unknown}), machine shared with other jobs"
  echo "clients: botocore $botocore_version, $aws_version (Debian), @smithy/shared-ini-file-loader $loader_version on node $(node --version)"
  echo "time: process start to the resolved config of [profile other], outside the block; $runs runs per"
  echo "variant, timed round-robin (1 warm-up round not counted). cost = time - time without any block."
  echo "Ratios against the lean block (a peer's: credential_process + region only, blank-line separated) of"
  echo "the same run, on the median and on the minimum of the runs."
  echo
  for k in "${!bytes[@]}"; do echo "$k ${bytes[$k]} ${lines[$k]} ${keys[$k]}"; done >"$work/files.txt"
  python3 - "$work/result.json" "$work/files.txt" "${levels[@]}" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
files = {}
for line in open(sys.argv[2]):
    k, b, n, kp = line.split()
    files[k] = (int(b), int(n), kp)
levels = sys.argv[3:]
variants = ["none", "lean", "uncommented"] + levels
names = {"uncommented": "default, no name", **{v: "awsso " + v for v in levels}}
sizes = list(next(iter(result.values())).keys())
print("config files (keys per profile of the block, lines, bytes):")
for size in sizes:
    for v in variants:
        b, n, kp = files[f"{v}.{size}"]
        print(f"  {size:>5} {names.get(v, v):<17} {kp:>4} keys {n:>7} lines {b:>9} bytes")
print("(awsso default: credential_process, region, granted_color, and the name comment line in place of")
print(" the blank separator; 'default, no name' is that block with each name comment a blank line)")
print()
print("CPU time (user + system of the client process; what parsing costs, whatever the machine's load);")
print("'range': the 90% range of cost/lean on medians, a bootstrap over the rounds of the same run:")
head = (" " * 40 + "------------- median of runs -------------    -------- min of runs --------",
        f"{'client':<11} {'profiles':>8}  {'variant':<17} {'time':>9} {'cost':>8} {'cost/lean':>9} {'range':>11} {'time/lean':>9}  "
        f"{'time':>9} {'cost':>8} {'cost/lean':>9} {'time/lean':>9}")
print(*head, sep="\n")
worst = {}
def cells(t, v, key):
    none, lean = t["none"][key], t["lean"][key]
    cost = t[v][key] - none
    out = f"{t[v][key] * 1000:>6.1f} ms {cost * 1000:>+5.1f} ms"
    if v not in ("none", "lean"):
        r = cost / (lean - none)
        out += f" {r:>9.2f}"
        if key + "_range" in t[v]:
            rng = t[v][key + "_range"]
            out += f" {rng[0]:>5.2f}-{rng[1]:<5.2f}" if rng else f" {'-':>11}"
        out += f" {t[v][key] / lean:>9.2f}"
        if v == "default":
            worst[key] = max(worst.get(key, 0), r)
    else:
        out += " " * (32 if key + "_range" in t["default"] else 20)
    return out
def verdict(key):
    """The goal's verdict from the default block's 90% ranges: met when every cell's range lies at or
    below 1.25, not met when one lies above it, else not resolved by this run's noise."""
    ranges = [t["default"].get(key + "_range") for per_size in result.values() for t in per_size.values()
              if key in t["default"]]
    if ranges and all(r and r[1] <= 1.25 for r in ranges):
        return "met (every cell's range at or below 1.25)"
    if any(r and r[0] > 1.25 for r in ranges):
        return "NOT met (a cell's range above 1.25)"
    n = sum(1 for r in ranges if not r or r[0] <= 1.25 < r[1])
    return f"not resolved by this run: {n} of {len(ranges)} cells' ranges hold 1.25 (noise wider than the margin)"
for tool, per_size in result.items():
    for size, t in per_size.items():
        for v in variants:
            print(f"{tool:<11} {size:>8}  {names.get(v, v):<17} {cells(t, v, 'cpu')}  {cells(t, v, 'cpu_min')}".rstrip())
    print()
if "cpu" in worst:
    print(f"goal at process start (awsso default cost/lean <= 1.25 in every cell): worst cell {worst['cpu']:.2f} on medians, "
          f"{worst['cpu_min']:.2f} on minimums; {verdict('cpu')}")
    print()
if any("parse" in t["none"] for per_size in result.values() for t in per_size.values()):
    print("Parse alone: CPU time of one load of the config inside a running client (no interpreter start),")
    print("a fresh loader each time, the variants loaded in turn within each process; the same statistics")
    print("over all the loads of the parse processes (the range's rounds: one load of every variant):")
    print(*(h.replace("runs", "loads") for h in head), sep="\n")
    for tool, per_size in result.items():
        for size, t in per_size.items():
            if "parse" not in t["none"]:
                continue
            for v in variants:
                print(f"{tool:<11} {size:>8}  {names.get(v, v):<17} {cells(t, v, 'parse')}  {cells(t, v, 'parse_min')}".rstrip())
        print()
    if "parse" in worst:
        print(f"goal on the parse alone: worst cell {worst['parse']:.2f} on medians, {worst['parse_min']:.2f} on minimums; {verdict('parse')}")
        print()
print("Wall time, median (the same runs; includes waiting for a CPU on a shared machine, so no ratios):")
for tool, per_size in result.items():
    for size, t in per_size.items():
        for v in variants:
            wall, cost = t[v]["wall"] * 1000, (t[v]["wall"] - t["none"]["wall"]) * 1000
            print(f"{tool:<11} {size:>8}  {names.get(v, v):<17} {wall:>6.0f} ms {cost:>+6.0f} ms")
    print()
EOF
} | tee "$work/report.txt"
mkdir -p "$(dirname "$out")"
cp "$work/report.txt" "$out"
ok "written to ${out#"$repo/"}"
