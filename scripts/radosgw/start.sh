#!/usr/bin/env bash
# Start a throwaway single-node Ceph cluster (1 mon, 1 memstore OSD, radosgw)
# on loopback, with everything (conf, data, logs, pid files) under <workdir>.
# Gives integration tests a real S3 API.
#
# Usage: scripts/radosgw/start.sh <workdir>
#   Prints S3_ENDPOINT / S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY / S3_REGION
#   and writes the same lines to <workdir>/env. Stop with scripts/radosgw/stop.sh <workdir>.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <workdir>" >&2
  exit 2
fi

TIMEOUT=${RADOSGW_START_TIMEOUT:-90}   # seconds, for the whole bootstrap
deadline=$((SECONDS + TIMEOUT))

mkdir -p "$1"
W=$(cd "$1" && pwd -P)   # absolute and canonical; stop.sh resolves it the same way
CONF=$W/ceph.conf

if [[ -e $W/run/mon.a.pid || -e $W/env ]]; then
  echo "error: $W already holds a cluster (run stop.sh and use a fresh workdir)" >&2
  exit 1
fi

log() { echo "[radosgw] $*" >&2; }

# Show why a step failed (message + tails of the given logs), stop whatever we
# already started (no orphan daemons in CI), and exit non-zero.
fail() {
  local msg=$1 f
  shift
  echo "error: $msg" >&2
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "---- last lines of $f ----" >&2
    tail -n 30 "$f" >&2
  done
  "$(dirname "$0")/stop.sh" "$W" >&2 || true
  echo "logs are in $W/log" >&2
  exit 1
}

# wait_for <what> <daemon> <cmd...>: poll cmd until it succeeds; give up at the
# global deadline, or at once if the daemon (run/<daemon>.pid) died.
wait_for() {
  local what=$1 daemon=$2
  shift 2
  local logs=("$W/log/$daemon.log" "$W/log/$daemon.out")
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$W/run/$daemon.pid")" 2>/dev/null; then
      fail "$what: $daemon exited" "${logs[@]}"
    fi
    ((SECONDS < deadline)) || fail "timed out after ${TIMEOUT}s waiting for $what" "${logs[@]}"
    sleep 0.5
  done
}

# --- packages: install only when missing (no systemd needed; we never use the units)
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
  log "installing radosgw ceph-mon ceph-osd (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  pkgs=(radosgw ceph-mon ceph-osd)
  if ! apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; then
    # package lists may be missing/stale in a fresh container
    apt-get update >&2
    apt-get install -y --no-install-recommends "${pkgs[@]}" >&2
  fi
  deadline=$((SECONDS + TIMEOUT))   # install time does not count against the bootstrap
fi

# A free loopback port (tiny race until the daemon binds it; acceptable for tests).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rand() { # rand <charset> <length>
  LC_ALL=C tr -dc "$1" </dev/urandom | head -c "$2" || true
}

MON_PORT=$(free_port)
RGW_PORT=$(free_port)
while [[ $RGW_PORT == "$MON_PORT" ]]; do RGW_PORT=$(free_port); done
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ACCESS_KEY=$(rand 'A-Z0-9' 20)
SECRET_KEY=$(rand 'A-Za-z0-9' 40)

mkdir -p "$W/run" "$W/log" "$W/mon/a" "$W/osd/0" "$W/rgw" "$W/tmp"

# No auth (throwaway, loopback only) and msgr v2 only, so the mon needs exactly
# one port. Pools of size 1 with few PGs: rgw creates ~8 pools by itself and the
# default 32 PGs each would exceed mon_max_pg_per_osd on a single OSD.
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
# radosgw defaults to a "secure" mon connection, which needs cephx
ms mon client mode = crc

run dir = $W/run
log file = $W/log/\$name.log
admin socket = $W/run/\$name.\$pid.asok
keyring = $W/keyring
tmp dir = $W/tmp
mon data = $W/mon/\$id
osd data = $W/osd/\$id
osd journal = $W/osd/\$id/journal
rgw data = $W/rgw

# single OSD, replica count 1
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
# The mon batches map updates once per second by default; every pool rgw
# creates (at startup and on first bucket/object/multipart) waits for one.
paxos propose interval = 0.05
paxos min wait = 0.01
# don't let a nearly full /tmp make the mon shut itself down
mon data avail crit = 0
mon data avail warn = 0

[mon]
mon cluster log file = $W/log/cluster.log

[osd]
# memstore: objects live in the OSD's RAM, nothing to preallocate, so it boots
# in ~1 s (bluestore on a 10 GiB sparse file: ~6 s start, same S3 behaviour).
# Data is gone after stop.sh, which is what throwaway test clusters want.
osd objectstore = memstore
# advertised capacity (not allocated); the OSD reports full at 95% of it
memstore device bytes = 4294967296

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
EOF

CEPH=(ceph -c "$CONF" --connect-timeout 10)

# Run a daemon in the foreground (-f) in its own session, detached from our
# stdio, and record its pid ourselves. Ceph's own daemonizing fork blocks the
# caller until the daemon is fully initialised (ceph-osd hangs there if it can't
# reach the mon), which would defeat our timeout.
# Non-interactive bash has no job control, so the child is not a process-group
# leader and setsid execs in place: $! is the daemon's pid.
start_daemon() { # start_daemon <name> <cmd...>
  local name=$1
  shift
  (cd "$W" && exec setsid "$@" -f </dev/null >"$W/log/$name.out" 2>&1) &
  echo $! >"$W/run/$name.pid"
}

# --- monitor (monmaptool --addv: an explicit v2 address; plain host:port would
# be guessed as v1 or v2 depending on the port number)
log "bootstrapping mon on 127.0.0.1:$MON_PORT in $W"
monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$W/monmap" \
  >"$W/log/monmaptool.out" 2>&1 || fail "monmaptool failed" "$W/log/monmaptool.out"
ceph-mon -c "$CONF" -i a --mkfs --monmap "$W/monmap" >"$W/log/mon.mkfs.out" 2>&1 \
  || fail "ceph-mon --mkfs failed" "$W/log/mon.mkfs.out"
start_daemon mon.a ceph-mon -c "$CONF" -i a
wait_for "mon quorum" mon.a timeout 15 "${CEPH[@]}" mon stat

# --- OSD
log "creating memstore OSD"
OSD_ID=$(timeout 30 "${CEPH[@]}" osd new "$OSD_UUID" 2>"$W/log/osd.new.out") \
  || fail "ceph osd new failed" "$W/log/osd.new.out"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >"$W/log/osd.mkfs.out" 2>&1 \
  || fail "ceph-osd --mkfs failed" "$W/log/osd.mkfs.out"
start_daemon "osd.$OSD_ID" ceph-osd -c "$CONF" -i "$OSD_ID"
osd_up() { timeout 15 "${CEPH[@]}" osd stat | grep -q ' 1 up'; }
wait_for "OSD up" "osd.$OSD_ID" osd_up

# --- radosgw
log "starting radosgw on 127.0.0.1:$RGW_PORT"
start_daemon client.rgw radosgw -c "$CONF" -n client.rgw
# Any HTTP answer from rgw counts (anonymous GET / => ListAllMyBuckets).
# python3 rather than curl: it is always there (the ceph CLI needs it).
rgw_answers() {
  python3 - "$RGW_PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request("GET", "/")
print(c.getresponse().status)
PY
}
wait_for "radosgw HTTP" client.rgw rgw_answers

# Created after rgw is up so radosgw-admin and rgw don't race on zone setup.
timeout 60 radosgw-admin -c "$CONF" user create --uid=tributary --display-name=tributary \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$W/log/user-create.out" 2>&1 \
  || fail "radosgw-admin user create failed" "$W/log/user-create.out"

cat >"$W/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_ACCESS_KEY_ID=$ACCESS_KEY
S3_SECRET_ACCESS_KEY=$SECRET_KEY
S3_REGION=us-east-1
EOF
log "ready after ${SECONDS}s"
cat "$W/env"
