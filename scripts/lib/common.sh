# Shared helpers for scripts/*.sh. Source it; don't run it.
# shellcheck shell=bash

if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then
  _c_red=$'\e[31m' _c_yel=$'\e[33m' _c_grn=$'\e[32m' _c_bold=$'\e[1m' _c_off=$'\e[0m'
else
  _c_red='' _c_yel='' _c_grn='' _c_bold='' _c_off=''
fi

log() { printf '%s==>%s %s\n' "$_c_bold" "$_c_off" "$*" >&2; }
ok() { printf '%s  ok%s %s\n' "$_c_grn" "$_c_off" "$*" >&2; }
warn() { printf '%sWARNING:%s %s\n' "$_c_yel$_c_bold" "$_c_off" "$*" >&2; }
die() {
  printf '%sERROR:%s %s\n' "$_c_red$_c_bold" "$_c_off" "$*" >&2
  exit 1
}

# The D-Bus call that tells whether a bus name has an owner ("true"/"false").
dbus_name_has_owner() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null |
    awk '{print $2}'
}

# The pid of the process that owns a bus name (empty if none).
dbus_name_owner_pid() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null |
    awk '{print $2}'
}
