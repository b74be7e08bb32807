#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt for the given groups
# (default: build test). Idempotent: does nothing when every package is present.
# Used by the README commands, .ci/run and the Dockerfile, so the list lives in one place.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build test)

wanted=()
for g in "${groups[@]}"; do
  while read -r group pkg; do
    [ "$group" = "$g" ] && wanted+=("$pkg")
  done < <(grep -Ev '^\s*(#|$)' "$here/packages.txt")
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#wanted[@]} packages present (${groups[*]})"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
