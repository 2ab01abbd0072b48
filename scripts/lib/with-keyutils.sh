#!/usr/bin/env bash
# Run a command with a fresh anonymous kernel session keyring and NO D-Bus session,
# so the only credential store that can work is Linux keyutils.
#
#   scripts/lib/with-keyutils.sh --check      exit 0 if the kernel keyring is usable here, else 1
#   scripts/lib/with-keyutils.sh CMD [ARGS...]
#
# CMD runs under `keyctl session -` with DBUS_SESSION_BUS_ADDRESS, DISPLAY and
# WAYLAND_DISPLAY unset and XDG_RUNTIME_DIR pointed at an empty private dir (libdbus would
# otherwise find a desktop's $XDG_RUNTIME_DIR/bus, or autolaunch a bus through X11).
#
# Note: awsso's kernel backend (src/store/kernel.rs) also links every key it sets into the
# user's PERSISTENT keyring (keyctl get_persistent), which outlives the session keyring (3 days
# by default; each key has its own timeout too), so keys would leak into later runs and into the
# user's real keyring. After CMD we unlink from the persistent keyring every key that CMD added
# to it; older keys are kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$here/common.sh"
# shellcheck source=need.sh
source "$here/need.sh"
need keyctl || die "cannot use the kernel keyring here without keyctl"

keyutils_usable() {
  command -v keyctl >/dev/null || return 1
  # shellcheck disable=SC2016
  keyctl session - bash -c '
    id=$(keyctl add user awsso-probe secret @s) &&
    [[ "$(keyctl print "$id")" == secret ]] &&
    [[ "$(keyctl print %user:awsso-probe)" == secret ]] &&
    keyctl unlink "$id" @s' >/dev/null 2>&1
}

if [[ "${1:-}" == --check ]]; then
  keyutils_usable
  exit
fi
[[ $# -gt 0 ]] || die "usage: $0 --check | CMD [ARGS...]"

if [[ -z "${_AWSSO_IN_KEY_SESSION:-}" ]]; then
  keyutils_usable || die "the kernel keyring (keyctl session / add_key) is not usable here"
  exec keyctl session - env _AWSSO_IN_KEY_SESSION=1 bash "${BASH_SOURCE[0]}" "$@"
fi
unset _AWSSO_IN_KEY_SESSION DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY

tmp="$(mktemp -d "${TMPDIR:-/tmp}/awsso-keyutils.XXXXXX")"
chmod 700 "$tmp"
export XDG_RUNTIME_DIR="$tmp"

persistent="$(keyctl get_persistent @s 2>/dev/null || true)"
list_persistent() { [[ -n "$persistent" ]] && keyctl rlist "$persistent" 2>/dev/null | tr ' ' '\n' | sed '/^$/d' | sort; }
before="$(list_persistent || true)"

cleanup() {
  if [[ -n "$persistent" ]]; then
    local after id n=0
    after="$(list_persistent || true)"
    for id in $(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after")); do
      keyctl unlink "$id" "$persistent" >/dev/null 2>&1 && n=$((n + 1))
    done
    ((n == 0)) || log "keyutils: unlinked $n key(s) the run left in the persistent keyring"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

status=0
"$@" || status=$?
exit "$status"
