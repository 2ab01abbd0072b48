#!/usr/bin/env bash
# Try awsso end to end in two minutes, against the bundled Identity Center simulator: ./scripts/try.sh
#
# Installs, with apt and only when missing, the commands it runs (scripts/lib/need.sh: keyutils, and for
# the private Secret Service dbus, gnome-keyring and libsecret-tools), builds awsso and the simulator
# (libdbus is vendored: no -dev package), then, in a throwaway HOME with its own AWS config, walks
# through what a person does: log in (device code, approved by the simulator), status, ls, sync, creds, exec, env, logout.
# Nothing outside the temporary directory is touched; the keyring entries live in a private keyring.
#
# Options: --accounts N (default 6), --keep (leave the temporary HOME for a look around).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib/common.sh"
# shellcheck source=lib/need.sh
source "$repo/scripts/lib/need.sh"

accounts=6
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --accounts) accounts="$2"; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

if [[ -z "${AWSSO_TRY_INNER:-}" ]]; then
  # What this script runs itself; with-secret-service.sh installs the Secret Service's own pieces.
  # need-not: fish (only `--shell fish`, an argument)
  need keyctl || die "try.sh needs keyctl (Debian: keyutils)"
  log "building awsso and the simulator (first build: a minute or two)"
  (cd "$repo" && cargo build --quiet -p awsso -p awsso-sim)
  # A private, unlocked Secret Service on a private D-Bus, plus a fresh kernel session keyring.
  export AWSSO_TRY_INNER=1
  exec "$repo/scripts/lib/with-secret-service.sh" keyctl session - bash "${BASH_SOURCE[0]}" --accounts "$accounts" $( ((keep)) && echo --keep)
fi

bin="$repo/target/debug"
home="$(mktemp -d)"
export HOME="$home" AWS_CONFIG_FILE="$home/.aws/config" AWSSO_CACHE_DIR="$home/.cache/awsso"
export AWSSO_KEYRING_SERVICE="awsso-try-$$" PATH="$bin:$PATH"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN BROWSER DISPLAY WAYLAND_DISPLAY
mkdir -p "$home/.aws"
cat >"$AWS_CONFIG_FILE" <<'CFG'
# my own settings: awsso never touches these lines
[default]
region = eu-west-1
CFG

"$bin/awsso-sim" --accounts "$accounts" --roles 2 --interval 1 --approve-after-polls 2 --quiet >"$home/sim.url" &
sim=$!
cleanup() {
  awsso logout --all >/dev/null 2>&1 || true
  kill "$sim" 2>/dev/null || true
  if ((keep)); then log "left $home for you to look at"; else rm -rf "$home"; fi
}
trap cleanup EXIT
for _ in $(seq 50); do grep -q AWSSO_SIM_URL "$home/sim.url" && break; sleep 0.1; done
url=$(sed -n 's/^AWSSO_SIM_URL=//p' "$home/sim.url")
[[ -n "$url" ]] || die "the simulator did not start"
# Point awsso at the simulator instead of AWS, the way the SDKs allow.
export AWS_ENDPOINT_URL_SSO_OIDC="$url" AWS_ENDPOINT_URL_SSO="$url"

step() { printf '\n%s$ %s%s\n' "$_c_bold" "$*" "$_c_off"; }
run() { step "$@"; "$@"; }

run awsso login --start-url https://d-0123456789.awsapps.com/start --region eu-west-1 --no-browser
run awsso status
run awsso ls
step "awsso sync --dry-run | sed -n 1,25p"
# sed reads to the end (unlike head): under pipefail, head's early exit would kill awsso with SIGPIPE.
awsso sync --dry-run | sed -n '1,25p'
run awsso sync
step "cat \$AWS_CONFIG_FILE | head -n 24"
head -n 24 "$AWS_CONFIG_FILE"
profile=$(awsso ls | sed -n '1s/\t.*//p')
step "awsso creds --profile $profile | cut -c1-100"
awsso creds --profile "$profile" | cut -c1-100
step "time awsso creds --profile $profile >/dev/null   # again: served from the keyring cache"
time awsso creds --profile "$profile" >/dev/null
step "awsso exec --profile $profile -- sh -c 'echo \$AWSSO_PROFILE \$AWS_REGION \${AWS_ACCESS_KEY_ID:0:8}…'"
awsso exec --profile "$profile" -- sh -c 'echo "$AWSSO_PROFILE $AWS_REGION $(printf %.8s "$AWS_ACCESS_KEY_ID")…"'
step "awsso env --profile $profile --shell fish | cut -c1-60"
awsso env --profile "$profile" --shell fish | cut -c1-60
run awsso logout
step "awsso creds --profile $profile   # logged out: fails at once, exit 3"
awsso creds --profile "$profile" || echo "(exit $?)"
printf '\n%sDone.%s Next: `awsso --help`, or log in to your own Identity Center (see README).\n' "$_c_grn" "$_c_off"
