#!/usr/bin/env bash
# Finds or installs every program the tests run for real, exports their paths, then runs the
# command it is given (npm test: the type-check and mocha). A program that can be neither found
# nor installed stops the run here, with its name and how to get it: no test is ever skipped for
# want of a tool.
#
# Usage: tools/test-tools.sh [COMMAND [ARG...]]
# Exports (each kept when already set): OPENSSL, PROMTOOL, PROMETHEUS, FLUENT_BIT_BIN, POSTGRES_BIN_DIR.
# Knobs: HUBSPOKE_TOOLS_DIR (default <repo>/.tools, git-ignored: builds land there),
#        FLUENT_BIT_BUILD_SCRIPT (default <repo>/../shared/tools/fluent-bit/build.sh).
#
# One function per tool, called in order at the bottom: a new tool gets its own ensure_* function
# and one line there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_dir=${HUBSPOKE_TOOLS_DIR:-$root/.tools}

say() { echo "test-tools: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# apt-get only as root; nothing is installed behind a user's back otherwise.
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=no
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = no ]; then
    apt-get update -qq >&2
    apt_updated=yes
  fi
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

# $1 = env var naming the binary, $2 = program name: prints its path, or nothing.
find_tool() {
  local from_env=${!1:-}
  if [ -n "$from_env" ]; then
    [ -x "$from_env" ] || die "$1=$from_env is not an executable file"
    echo "$from_env"
    return
  fi
  command -v "$2" 2>/dev/null || true
}

# ---- openssl: the tests make throwaway CAs and certificates with it ----
ensure_openssl() {
  local bin
  bin=$(find_tool OPENSSL openssl)
  if [ -z "$bin" ] && can_apt; then
    apt_install openssl
    bin=$(command -v openssl || true)
  fi
  [ -n "$bin" ] || die "openssl not found: install it (Debian/Ubuntu: apt-get install openssl) or set OPENSSL=/path/to/openssl"
  export OPENSSL=$bin
}

# ---- promtool and prometheus: Debian's package (2.42) checks and runs the Prometheus configs ----
ensure_prometheus() {
  local promtool prometheus
  promtool=$(find_tool PROMTOOL promtool)
  prometheus=$(find_tool PROMETHEUS prometheus)
  if { [ -z "$promtool" ] || [ -z "$prometheus" ]; } && can_apt; then
    say "installing Debian's prometheus package (promtool and prometheus)"
    apt_install prometheus
    promtool=$(find_tool PROMTOOL promtool)
    prometheus=$(find_tool PROMETHEUS prometheus)
  fi
  local hint="install Debian's package as root (apt-get install prometheus), or set PROMTOOL and PROMETHEUS to the binaries"
  [ -n "$promtool" ] || die "promtool not found: $hint"
  [ -n "$prometheus" ] || die "prometheus not found: $hint"
  export PROMTOOL=$promtool PROMETHEUS=$prometheus
}

# ---- Fluent Bit: not packaged in Debian; the official packages or a build from source ----
# The major release the stacks pin (stacks/defaults.ts); a binary of another major is not used.
fluent_bit_pinned_major() {
  sed -n 's/^ *fluentBit: "[^"]*:v\{0,1\}\([0-9][0-9]*\)\..*/\1/p' "$root/stacks/defaults.ts" | head -n 1
}

# Prints the binary's major release, or nothing when it does not run.
fluent_bit_major() {
  "$1" --version 2>/dev/null | sed -n 's/^Fluent Bit v\([0-9][0-9]*\)\..*/\1/p' | head -n 1
}

ensure_fluent_bit() {
  local major install_hint candidate found="" script built
  major=$(fluent_bit_pinned_major)
  [ -n "$major" ] || die "cannot read the pinned Fluent Bit release (images.fluentBit) from stacks/defaults.ts"
  install_hint="install Fluent Bit $major.x from its official packages (https://docs.fluentbit.io/manual/installation/downloads/linux: the install script or the packages.fluentbit.io apt repository, which installs /opt/fluent-bit/bin/fluent-bit), or set FLUENT_BIT_BIN=/path/to/fluent-bit"

  if [ -n "${FLUENT_BIT_BIN:-}" ]; then
    [ -x "$FLUENT_BIT_BIN" ] || die "FLUENT_BIT_BIN=$FLUENT_BIT_BIN is not an executable file"
    [ "$(fluent_bit_major "$FLUENT_BIT_BIN")" = "$major" ] ||
      die "FLUENT_BIT_BIN=$FLUENT_BIT_BIN is not Fluent Bit $major.x (it says: $("$FLUENT_BIT_BIN" --version 2>&1 | head -n 1)); the stacks pin $major.x"
    return
  fi

  for candidate in "$(command -v fluent-bit 2>/dev/null || true)" /opt/fluent-bit/bin/fluent-bit \
    "$tools_dir/fluent-bit/bin/fluent-bit"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if [ "$(fluent_bit_major "$candidate")" = "$major" ]; then
      found=$candidate
      break
    fi
    say "ignoring $candidate: not Fluent Bit $major.x"
  done

  if [ -z "$found" ]; then
    script=${FLUENT_BIT_BUILD_SCRIPT:-$root/../shared/tools/fluent-bit/build.sh}
    [ -f "$script" ] || die "fluent-bit $major.x not found (FLUENT_BIT_BIN, PATH, /opt/fluent-bit/bin, $tools_dir/fluent-bit) and no build script at $script: $install_hint"
    say "building Fluent Bit from source with $script into $tools_dir/fluent-bit (about 5 minutes, once)"
    built=$(bash "$script" "$tools_dir/fluent-bit" | tail -n 1) ||
      die "building Fluent Bit failed (see the messages above and $tools_dir/fluent-bit/build.log): $install_hint"
    [ -x "$built" ] && [ "$(fluent_bit_major "$built")" = "$major" ] ||
      die "the build did not produce a working Fluent Bit $major.x ($built): $install_hint"
    found=$built
  fi
  export FLUENT_BIT_BIN=$found
}

# ---- Postgres: the restore tests run the generated backup/restore scripts against real servers ----
# Debian's server package: initdb and pg_ctl live in /usr/lib/postgresql/<major>/bin (not on PATH);
# pg_dump, pg_restore and psql must come from the same directory (a pg_dump older than the server
# refuses to dump it).
postgres_bin_dir() {
  local dir
  if [ -n "${POSTGRES_BIN_DIR:-}" ]; then
    echo "$POSTGRES_BIN_DIR"
    return
  fi
  local found="" major best=0
  # The glob sorts 10 before 9: keep the highest major number.
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || continue
    major=${dir%/bin}
    major=${major##*/}
    if [ "$major" -gt "$best" ] 2>/dev/null; then
      best=$major
      found=$dir
    fi
  done
  echo "$found"
}

ensure_postgres() {
  local dir tool
  dir=$(postgres_bin_dir)
  if [ -z "$dir" ] && can_apt; then
    say "installing Debian's postgresql package (initdb, pg_ctl, pg_dump, pg_restore, psql)"
    apt_install postgresql
    dir=$(postgres_bin_dir)
  fi
  local hint="install Debian's server package as root (apt-get install postgresql), or set POSTGRES_BIN_DIR to the directory holding initdb, pg_ctl, pg_dump, pg_restore and psql"
  [ -n "$dir" ] || die "Postgres server binaries (initdb, pg_ctl) not found: $hint"
  for tool in initdb pg_ctl pg_dump pg_restore psql; do
    [ -x "$dir/$tool" ] || die "$dir/$tool is missing: $hint"
  done
  if ! command -v gpg >/dev/null 2>&1 && can_apt; then apt_install gnupg; fi
  command -v gpg >/dev/null 2>&1 || die "gpg not found (the backup scripts encrypt with it): apt-get install gnupg"
  export POSTGRES_BIN_DIR=$dir
}

ensure_openssl
ensure_prometheus
ensure_fluent_bit
ensure_postgres
say "openssl=$OPENSSL promtool=$PROMTOOL prometheus=$PROMETHEUS fluent-bit=$FLUENT_BIT_BIN postgres=$POSTGRES_BIN_DIR"

if [ "$#" -gt 0 ]; then exec "$@"; fi
