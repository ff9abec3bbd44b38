#!/usr/bin/env bash
# One-command setup (`npm run setup`): the system packages listed in scripts/system-packages.txt,
# then the npm dependencies. Uses apt-get where present (as root, or through sudo); elsewhere it
# prints what to install and checks that the commands are there.
set -euo pipefail
cd "$(dirname "$0")/.."

list=scripts/system-packages.txt
packages=()
commands=()
while read -r name command _; do
  case "$name" in '' | '#'*) continue ;; esac
  packages+=("$name")
  [ "$command" = "-" ] || commands+=("$command")
done <"$list"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      sudo=()
    elif command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "setup: not root and no sudo; install these Debian packages, then run npm run setup again: ${missing[*]}" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: system packages already installed: ${packages[*]}"
  fi
else
  echo "setup: no apt-get here; install these with your package manager (Debian names): ${packages[*]}"
fi

absent=()
# Daemons such as nginx install to /usr/sbin, which is not on a non-root user's PATH on Debian.
for c in "${commands[@]}"; do command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || absent+=("$c"); done
if [ "${#absent[@]}" -gt 0 ]; then
  echo "setup: these commands are still missing: ${absent[*]} (see $list)" >&2
  exit 1
fi

npm ci --no-audit --no-fund
# esbuild ships its binary as a package (no install script needed): prove it runs.
npx --no-install esbuild --version >/dev/null
echo "setup: done. Rehearse a rotation with: npm start   Run the tests with: npm test"
