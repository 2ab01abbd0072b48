# What the scripts run, and which Debian package brings it: the one source of truth for installs.
# Source it, then `need CMD...` installs (apt) only the packages of the commands that are missing,
# with one `apt-get update` per process, and fails if a command is still missing afterwards.
#
#   need secret-tool keyctl      # -> apt-get install libsecret-tools keyutils, if both are missing
#   bash scripts/lib/need.sh --selftest
#       checks need() against a fake apt-get, and that every script's `need` line names each command
#       of the table that the script runs (and test.sh's, each one the tests spawn).
#
# A CMD is a command name (looked up with `command -v`), an absolute path (the AWS CLI v2 must be
# Debian's /usr/bin/aws: a pip-installed `aws` v1 earlier on PATH is not it), or a pseudo-command
# (python3-venv: `python3 -m venv` works, i.e. venv and ensurepip import).
# AWSSO_NO_INSTALL=1 (./scripts/test.sh --no-install sets it): report what is missing, install nothing.
# shellcheck shell=bash

declare -gA NEED_PKG=(
  [dbus-run-session]=dbus-daemon
  [dbus-send]=dbus-bin
  [gnome-keyring-daemon]=gnome-keyring
  [secret-tool]=libsecret-tools
  [keyctl]=keyutils
  [zsh]=zsh
  [fish]=fish
  [tmux]=tmux
  [script]=bsdutils
  [patch]=patch
  [curl]=curl
  [hyperfine]=hyperfine
  [python3]=python3
  [python3-venv]=python3-venv
  [node]=nodejs
  [npm]=npm
  [/usr/bin/aws]=awscli
  [/usr/bin/time]=time
  [jq]=jq
  [runuser]=util-linux
  [setpriv]=util-linux
  [unshare]=util-linux
)

_need_have() {
  case "$1" in
    python3-venv) python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ;;
    /*) [[ -x "$1" ]] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

_need_apt() { # ARGS... : apt-get as root, non-interactive, waiting for another apt's lock
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || {
      printf 'ERROR: need root or sudo to run apt-get %s\n' "$*" >&2
      return 1
    }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600 \
    -o Dpkg::Use-Pty=0 "$@" </dev/null
}

# need CMD...: every CMD is there afterwards, or it returns 1 having said which are not.
need() {
  local cmd pkgs=() missing=() p
  for cmd in "$@"; do
    [[ -n "${NEED_PKG[$cmd]:-}" ]] || {
      printf 'ERROR: need: no Debian package known for %s (add it to scripts/lib/need.sh)\n' "$cmd" >&2
      return 1
    }
    _need_have "$cmd" && continue
    missing+=("$cmd")
    p="${NEED_PKG[$cmd]}"
    [[ " ${pkgs[*]} " == *" $p "* ]] || pkgs+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [[ "${AWSSO_NO_INSTALL:-}" == 1 ]]; then
    printf 'WARNING: missing %s (Debian: apt-get install %s); not installing (--no-install)\n' \
      "${missing[*]}" "${pkgs[*]}" >&2
    return 1
  fi
  printf '==> installing %s (for %s)\n' "${pkgs[*]}" "${missing[*]}" >&2
  if [[ -z "${_NEED_APT_UPDATED:-}" ]]; then
    _need_apt update || return 1
    export _NEED_APT_UPDATED=1
  fi
  _need_apt install -y --no-install-recommends "${pkgs[@]}" >/dev/null || return 1
  hash -r
  for cmd in "${missing[@]}"; do
    _need_have "$cmd" || {
      printf 'ERROR: %s is still missing after apt-get install %s\n' "$cmd" "${NEED_PKG[$cmd]}" >&2
      return 1
    }
  done
}

# ---- self-test ------------------------------------------------------------------------------
_need_code() { # FILE: its lines without comments and without the `need` lines themselves
  sed -e 's/^[[:space:]]*#.*//' -e 's/[[:space:]]#[[:space:]].*//' "$1" | grep -v '^[[:space:]]*need ' || true
}

_need_runs() { # FILE CMD: does FILE's code run CMD?
  local code pat name="${2##*/}"
  code="$(_need_code "$1")"
  case "$2" in
    python3-venv) pat='python3 -m venv' ;;
    # An absolute path is what a script runs by that path: matched as written (its last component alone,
    # e.g. `time`, is an ordinary word).
    /*) pat="(^|[^[:alnum:]_./-])${2//./\\.}([^[:alnum:]_./-]|$)" ;;
    *) pat="(^|[^[:alnum:]_./-])${name}([^[:alnum:]_./-]|$)" ;;
  esac
  grep -Eq -- "$pat" <<<"$code"
}

_need_named() { # FILE CMD: does FILE's `need` line(s) (or a `# need-not:` line, for a word that is no command) name it?
  grep -E '^[[:space:]]*(need|# need-not:) ' "$1" | tr ' ' '\n' | grep -qxF -- "$2"
}

_need_selftest() {
  local repo fails=0 f cmd tmp got
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  tmp="$(mktemp -d)"
  # 1. need() against a fake apt-get that records its calls and "installs" by creating the command.
  mkdir "$tmp/bin"
  ln -s "$(command -v env)" "$tmp/bin/env"
  cat >"$tmp/bin/apt-get" <<EOF
#!$BASH
echo "apt-get \$*" >>"$tmp/calls"
if [[ " \$* " == *" install "* ]]; then
  for a in "\$@"; do
    case "\$a" in libsecret-tools) printf '#!$BASH\n' >"$tmp/bin/secret-tool" ;;
                  keyutils) printf '#!$BASH\n' >"$tmp/bin/keyctl" ;; esac
  done
  $(command -v chmod) +x "$tmp/bin/"* 2>/dev/null
fi
EOF
  chmod +x "$tmp/bin/apt-get"
  got="$(env -i PATH="$tmp/bin" HOME="$tmp" "$BASH" -c \
    "source '${BASH_SOURCE[0]}'; need secret-tool keyctl secret-tool && need secret-tool keyctl && need keyctl; echo rc=\$?" 2>&1)"
  local want="apt-get -qq -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 update
apt-get -qq -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 install -y --no-install-recommends libsecret-tools keyutils"
  if [[ "$(cat "$tmp/calls" 2>/dev/null)" != "$want" || "$got" != *rc=0 ]]; then
    printf 'FAIL need(): apt-get calls were:\n%s\noutput:\n%s\n' "$(cat "$tmp/calls" 2>/dev/null)" "$got" >&2
    fails=$((fails + 1))
  else
    echo "ok   need(): one update, one install of exactly the missing packages, nothing when present"
  fi
  rm -f "$tmp/calls"
  got="$(env -i PATH="$tmp/bin" HOME="$tmp" AWSSO_NO_INSTALL=1 "$BASH" -c \
    "source '${BASH_SOURCE[0]}'; need zsh; echo rc=\$?" 2>&1)"
  if [[ -e "$tmp/calls" || "$got" != *"missing zsh"*rc=1 ]]; then
    printf 'FAIL need() with AWSSO_NO_INSTALL=1: %s\n' "$got" >&2
    fails=$((fails + 1))
  else
    echo "ok   need() with AWSSO_NO_INSTALL=1: says what is missing, installs nothing, fails"
  fi
  rm -rf "$tmp"

  # 2. Each script names in its `need` line every command of the table that it runs.
  for f in "$repo"/scripts/*.sh "$repo"/scripts/lib/*.sh; do
    case "${f##*/}" in need.sh | common.sh) continue ;; esac
    for cmd in "${!NEED_PKG[@]}"; do
      if _need_runs "$f" "$cmd" && ! _need_named "$f" "$cmd"; then
        printf 'FAIL %s runs %s but its need line does not name it\n' "${f#"$repo"/}" "$cmd" >&2
        fails=$((fails + 1))
      fi
    done
  done
  # common.sh's D-Bus helpers are used by with-secret-service.sh, which needs dbus-send for them.
  _need_named "$repo/scripts/lib/with-secret-service.sh" dbus-send || {
    echo "FAIL with-secret-service.sh does not need dbus-send (common.sh's dbus helpers use it)" >&2
    fails=$((fails + 1))
  }
  # 3. test.sh names every program the tests spawn by name (Rust: Command::new / .run("..."); Python:
  #    "/usr/bin/X" and shutil.which("X") in the harness), except the base system's (bash, sh, kill...).
  local spawned
  spawned="$(grep -rhoE 'Command::new\("[^"]+"\)|\.run\("[^"]+"' "$repo"/tests/*.rs "$repo"/tests/common 2>/dev/null |
    sed -E 's/.*\("([^"]+)".*/\1/' | sort -u)"
  spawned+=$'\n'"$(grep -hoE '"/usr/bin/[^"]+"|which\("[^"]+"\)' "$repo"/tests/python/*.py 2>/dev/null |
    sed -E 's/.*"([^"]+)".*/\1/' | sort -u)"
  for cmd in $spawned; do
    case "$cmd" in bash | sh | kill | env | true | false | cat | sleep) continue ;; esac
    if ! _need_named "$repo/scripts/test.sh" "$cmd"; then
      printf 'FAIL the tests spawn %s but scripts/test.sh does not need it\n' "$cmd" >&2
      fails=$((fails + 1))
    fi
  done
  if ((fails)); then
    echo "need selftest: $fails failure(s)" >&2
    return 1
  fi
  echo "ok   every script's need line covers the commands it runs; test.sh covers what the tests spawn"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    --selftest) _need_selftest ;;
    *)
      echo "usage: source scripts/lib/need.sh; need CMD...   |   bash scripts/lib/need.sh --selftest" >&2
      exit 2
      ;;
  esac
fi
