# Sourced by the bench scripts. bound_port LOG → the port the service logged in service_started
# (PORT=0), waiting up to 10 s; prints the log and exits 1 when it never appears.
bound_port() {
  local log="$1" port=""
  for _ in $(seq 200); do
    port="$(grep '"service_started"' "$log" 2>/dev/null | grep -o '"port":[0-9]*' |
      cut -d: -f2 || true)"
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "service did not start ($log)" >&2; cat "$log" >&2; exit 1; }
  echo "$port"
}
