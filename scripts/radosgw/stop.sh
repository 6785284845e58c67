#!/usr/bin/env bash
# Stop the Ceph daemons (radosgw, OSD, mon) that scripts/radosgw/start.sh
# started from <workdir>, using the pid files in <workdir>/run.
# Removes nothing: the workdir (data, logs) is left for inspection / rm -rf.
#
# Usage: scripts/radosgw/stop.sh <workdir>
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <workdir>" >&2
  exit 2
fi
W=$(cd "$1" && pwd -P)
CONF=$W/ceph.conf

# Only signal a pid that still runs with our ceph.conf on its command line,
# so a stale pid file can never hit an unrelated (recycled) pid.
ours() {
  local pid=$1 args
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $'\n'$args$'\n' == *$'\n'"$CONF"$'\n'* ]]
}

# stop_pidfile <pidfile> <signal>: signal the daemon, wait up to ~5 s, then SIGKILL.
stop_pidfile() {
  local pidfile=$1 sig=$2 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  ours "$pid" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do
    ours "$pid" || return 0
    sleep 0.2
  done
  echo "[radosgw] $(basename "$pidfile" .pid) (pid $pid) still running after SIG$sig, sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# Clients before servers, one at a time.
# radosgw gets SIGKILL straight away: its graceful shutdown takes 3-10 s
# (waits for its lifecycle/gc threads) and buys nothing for a throwaway cluster.
# OSD (osd_fast_shutdown) and mon exit on SIGTERM within a fraction of a second.
stop_pidfile "$W/run/client.rgw.pid" KILL
for pidfile in "$W"/run/osd.*.pid "$W"/run/mon.*.pid; do
  stop_pidfile "$pidfile" TERM
done
echo "[radosgw] stopped daemons of $W" >&2
