#!/usr/bin/env bash
# Run a command against a real, private, UNLOCKED Secret Service (gnome-keyring),
# headless: no display, no stdin, no prompt.
#
#   scripts/lib/with-secret-service.sh [CMD [ARGS...]]
#
# Starts a private D-Bus session bus (dbus-run-session), starts gnome-keyring-daemon on it
# with its keyrings in a throw-away directory, creates and unlocks the default "login"
# collection with an empty password, checks that an item can be stored and read back
# (secret-tool), then runs CMD with DBUS_SESSION_BUS_ADDRESS pointing at that bus.
# Without CMD it only checks. Exits with CMD's status; everything is torn down afterwards.
#
# AWSSO_SS_MODE picks a broken state instead, to test what awsso does with a Secret Service that
# answers but cannot store (the default, unset or "unlocked", is the working one above):
#   nocollection  the daemon as D-Bus activation starts it (`--start`, no `--unlock`): no login
#                 collection, no default alias; storing needs a prompt that cannot appear.
#   locked        a login collection with a (non-empty) password, then locked over D-Bus: unlocking
#                 needs the password prompt, which has no display.
# Each mode checks that the daemon really is in that state before running CMD.
#
# Why this incantation (verified on Debian 12, gnome-keyring 42.1):
#  - `--unlock` reads the login password from stdin. An EMPTY stdin means "no password":
#    the daemon then creates no login collection and the first store asks gcr-prompter,
#    which fails without a display ("Object does not exist at path .../collection/login").
#    A single newline means "the empty password": the login collection is created, becomes
#    the default alias and is unlocked.
#  - The daemon's keyrings go to $XDG_DATA_HOME/keyrings and its control socket to
#    $XDG_RUNTIME_DIR/keyring: both are pointed at a temp dir so a developer's real login
#    keyring (with a real password) is neither used nor touched.
#  - `--foreground` in the background gives us its pid; we wait until it owns
#    org.freedesktop.secrets before anything else talks to the bus, because otherwise the
#    first client may D-Bus-activate a second daemon (`--start`), which has no login collection.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"

if [[ -z "${_AWSSO_IN_PRIVATE_BUS:-}" ]]; then
  # shellcheck source=need.sh
  source "$here/need.sh"
  need dbus-run-session dbus-send gnome-keyring-daemon secret-tool || die "cannot set up a Secret Service here"
  # (dbus-daemon prints "Failed to set fd limit to 65536" when run as root in a sandbox: harmless.)
  exec dbus-run-session -- env _AWSSO_IN_PRIVATE_BUS=1 bash "${BASH_SOURCE[0]}" "$@"
fi
unset _AWSSO_IN_PRIVATE_BUS

tmp="$(mktemp -d "${TMPDIR:-/tmp}/awsso-secret-service.XXXXXX")"
mkdir -m 700 "$tmp/data" "$tmp/run"
gk_pid=""
cleanup() {
  if [[ -n "$gk_pid" ]]; then
    kill "$gk_pid" 2>/dev/null || true
    wait "$gk_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mode="${AWSSO_SS_MODE:-unlocked}"
case "$mode" in
  unlocked)
    printf '\n' |
      XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" \
        gnome-keyring-daemon --foreground --unlock --components=secrets \
        >"$tmp/daemon.log" 2>&1 &
    ;;
  nocollection)
    # The command line of /usr/share/dbus-1/services/org.freedesktop.secrets.service.
    XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" \
      gnome-keyring-daemon --start --foreground --components=secrets \
      </dev/null >"$tmp/daemon.log" 2>&1 &
    ;;
  locked)
    printf 'awsso-test-password\n' |
      XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" \
        gnome-keyring-daemon --foreground --unlock --components=secrets \
        >"$tmp/daemon.log" 2>&1 &
    ;;
  *) die "AWSSO_SS_MODE='$mode': expected unlocked, nocollection or locked" ;;
esac
gk_pid=$!

daemon_failed() {
  echo "---- gnome-keyring-daemon output:" >&2
  cat "$tmp/daemon.log" >&2 || true
  die "Secret Service setup failed: $*"
}

# Wait (up to 15 s) for our daemon to own org.freedesktop.secrets.
for _ in $(seq 300); do
  kill -0 "$gk_pid" 2>/dev/null || daemon_failed "gnome-keyring-daemon exited at start"
  [[ "$(dbus_name_has_owner org.freedesktop.secrets)" == true ]] && break
  sleep 0.05
done
[[ "$(dbus_name_has_owner org.freedesktop.secrets)" == true ]] ||
  daemon_failed "no process took the bus name org.freedesktop.secrets within 15 s"
owner="$(dbus_name_owner_pid org.freedesktop.secrets)"
[[ "$owner" == "$gk_pid" ]] ||
  daemon_failed "org.freedesktop.secrets is owned by pid '$owner', not by our daemon (pid $gk_pid)"

ss_call() { # METHOD ARGS...: a Secret Service method call, literal reply
  dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    "org.freedesktop.Secret.Service.$1" "${@:2}" 2>&1
}
collection_locked() { # PATH: "true"/"false"
  dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets "$1" \
    org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked 2>&1 |
    awk '{print $NF}'
}
case "$mode" in
  nocollection)
    alias_path="$(ss_call ReadAlias string:default | tr -d ' ')"
    [[ "$alias_path" == / ]] ||
      daemon_failed "nocollection: the default alias points to '$alias_path', expected none ('/')"
    ;;
  locked)
    login=/org/freedesktop/secrets/collection/login
    [[ "$(ss_call ReadAlias string:default | tr -d ' ')" == "$login" ]] ||
      daemon_failed "locked: no login collection as the default"
    ss_call Lock "array:objpath:$login" >/dev/null
    [[ "$(collection_locked "$login")" == true ]] || daemon_failed "locked: the login collection did not lock"
    ;;
esac
if [[ "$mode" != unlocked ]]; then
  if [[ $# -eq 0 ]]; then
    ok "Secret Service: gnome-keyring (pid $gk_pid) on a private D-Bus, in state '$mode'"
    exit 0
  fi
  status=0
  "$@" || status=$?
  exit "$status"
fi

# Prove that the default collection exists, is unlocked and takes items without a prompt.
probe_val="probe-$$-$RANDOM"
if ! printf '%s' "$probe_val" |
  timeout 20 secret-tool store --label='awsso probe' awsso-probe probe 2>"$tmp/probe.err"; then
  cat "$tmp/probe.err" >&2
  daemon_failed "'secret-tool store' into the default collection failed (is the login collection missing or locked?)"
fi
got="$(timeout 20 secret-tool lookup awsso-probe probe 2>"$tmp/probe.err" || true)"
[[ "$got" == "$probe_val" ]] || {
  cat "$tmp/probe.err" >&2
  daemon_failed "'secret-tool lookup' gave '$got', expected '$probe_val'"
}
timeout 20 secret-tool clear awsso-probe probe 2>/dev/null || true

if [[ $# -eq 0 ]]; then
  ok "Secret Service: unlocked gnome-keyring (pid $gk_pid) on a private D-Bus; store+lookup work"
  exit 0
fi

status=0
"$@" || status=$?
exit "$status"
