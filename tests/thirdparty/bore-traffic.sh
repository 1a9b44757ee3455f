#!/bin/sh
# Traffic through a bore tunnel, for bore.yaml: BIN_DIR TUNNEL_PORT BACKEND_PORT [SECONDS].
# Starts bore's own client (`bore local`) against the bore server under test, with
# simple-http-server behind it as the service it exposes, waits until the tunnel answers, then
# runs wrk through it for SECONDS (default 3) on loopback only. Both helpers end with the script.
set -eu
bin=$1 tunnel=$2 backend=$3 secs=${4:-3}

"$bin/simple-http-server" --ip 127.0.0.1 --port "$backend" --silent --nocache www &
backend_pid=$!
"$bin/bore" local "$backend" --local-host 127.0.0.1 --to 127.0.0.1 --port "$tunnel" &
client_pid=$!
trap 'kill "$client_pid" "$backend_pid" 2>/dev/null || true; wait' EXIT

# The tunnel answers once bore local has registered it and the backend listens.
tries=0
until curl -fsS -o /dev/null "http://127.0.0.1:$tunnel/index.html" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -ge 100 ]; then
		echo "bore-traffic.sh: the tunnel on 127.0.0.1:$tunnel never answered in 10s" >&2
		exit 1
	fi
	sleep 0.1
done
wrk -t1 -c4 -d"${secs}s" "http://127.0.0.1:$tunnel/index.html"
