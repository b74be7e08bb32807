#!/usr/bin/env bash
# Rewrites the settings table of docs/configuration.md from the binary's own reference
# (`user-service config-reference`), between the BEGIN/END settings table markers.
# Usage: scripts/update-config-reference.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-$root/build}/user-service"
doc="$root/docs/configuration.md"
[[ -x "$binary" ]] || { echo "no binary at $binary: build first" >&2; exit 1; }

table="$(mktemp)"
trap 'rm -f "$table" "$doc.new"' EXIT
"$binary" config-reference > "$table"
awk -v table="$table" '
  /^<!-- BEGIN settings table/ { print; while ((getline line < table) > 0) print line; skip = 1; found = 1; next }
  /^<!-- END settings table -->/ { skip = 0 }
  !skip { print }
  END { if (!found) { print "no BEGIN settings table marker" > "/dev/stderr"; exit 1 } }
' "$doc" > "$doc.new"
mv "$doc.new" "$doc"
echo "updated $doc"
