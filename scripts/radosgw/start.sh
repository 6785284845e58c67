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
W=$(cd "$1" && pwd)   # absolute: daemons chdir to / when they daemonize
CONF=$W/ceph.conf

if [[ -e $W/run/mon.a.pid || -e $W/env ]]; then
  echo "error: $W already holds a cluster (run stop.sh and use a fresh workdir)" >&2
  exit 1
fi

log() { echo "[radosgw] $*" >&2; }

# Show why a step failed: message + tail of the relevant daemon log.
fail() {
  local msg=$1 logfile=${2:-}
  echo "error: $msg" >&2
  if [[ -n $logfile && -f $logfile ]]; then
    echo "---- last lines of $logfile ----" >&2
    tail -n 40 "$logfile" >&2
  fi
  echo "(daemons may still be running: $(dirname "$0")/stop.sh $W)" >&2
  exit 1
}

# Poll "$@" until it succeeds; give up at the global deadline, or at once if the
# daemon whose pid file is $pidfile died.
wait_for() {
  local what=$1 logfile=$2 pidfile=$3
  shift 3
  until "$@" >/dev/null 2>&1; do
    if [[ -f $pidfile ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      fail "$what: daemon exited" "$logfile"
    fi
    ((SECONDS < deadline)) || fail "timed out after ${TIMEOUT}s waiting for $what" "$logfile"
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

# No auth (throwaway, loopback only) and msgr v1 only, so the mon needs exactly
# one port. Pools of size 1 with few PGs: rgw creates ~8 pools by itself and the
# default 32 PGs each would exceed mon_max_pg_per_osd on a single OSD.
cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = 127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none

run dir = $W/run
pid file = $W/run/\$name.pid
log file = $W/log/\$name.log
admin socket = $W/run/\$name.\$pid.asok
keyring = $W/keyring
tmp dir = $W/tmp
mon data = $W/mon/\$id
osd data = $W/osd/\$id
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
# don't let a nearly full /tmp make the mon shut itself down
mon data avail crit = 0
mon data avail warn = 0

[mon]
mon cluster log file = $W/log/cluster.log

[osd]
# memstore: no block device or file preallocation, fastest to mkfs/boot.
# Data lives in OSD RAM (written to osd data dir only on clean shutdown).
osd objectstore = memstore
memstore device bytes = 4294967296

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
EOF

CEPH=(ceph -c "$CONF" --connect-timeout 10)

# --- monitor
log "bootstrapping mon on 127.0.0.1:$MON_PORT in $W"
monmaptool --create --clobber --fsid "$FSID" --add a "127.0.0.1:$MON_PORT" "$W/monmap" >"$W/log/monmaptool.log" 2>&1 \
  || fail "monmaptool failed" "$W/log/monmaptool.log"
ceph-mon -c "$CONF" -i a --mkfs --monmap "$W/monmap" >"$W/log/mon.mkfs.out" 2>&1 \
  || fail "ceph-mon --mkfs failed" "$W/log/mon.mkfs.out"
# Without -f the daemon forks and writes its own pid file.
ceph-mon -c "$CONF" -i a >"$W/log/mon.a.out" 2>&1 || fail "ceph-mon failed to start" "$W/log/mon.a.log"
wait_for "mon quorum" "$W/log/mon.a.log" "$W/run/mon.a.pid" "${CEPH[@]}" mon stat

# --- OSD
log "creating memstore OSD"
OSD_ID=$("${CEPH[@]}" osd new "$OSD_UUID" 2>"$W/log/osd.new.out") || fail "ceph osd new failed" "$W/log/osd.new.out"
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >"$W/log/osd.mkfs.out" 2>&1 \
  || fail "ceph-osd --mkfs failed" "$W/log/osd.mkfs.out"
ceph-osd -c "$CONF" -i "$OSD_ID" >"$W/log/osd.$OSD_ID.out" 2>&1 || fail "ceph-osd failed to start" "$W/log/osd.$OSD_ID.log"
osd_up() { "${CEPH[@]}" osd stat | grep -q ' 1 up'; }
wait_for "OSD up" "$W/log/osd.$OSD_ID.log" "$W/run/osd.$OSD_ID.pid" osd_up

# --- radosgw
log "starting radosgw on 127.0.0.1:$RGW_PORT"
radosgw -c "$CONF" -n client.rgw >"$W/log/client.rgw.out" 2>&1 || fail "radosgw failed to start" "$W/log/client.rgw.log"
rgw_answers() { # any HTTP status from rgw counts (anonymous GET / => ListAllMyBuckets)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RGW_PORT/") || true
  [[ $code != 000 ]]
}
wait_for "radosgw HTTP" "$W/log/client.rgw.log" "$W/run/client.rgw.pid" rgw_answers

# Created after rgw is up so radosgw-admin and rgw don't race on zone setup.
radosgw-admin -c "$CONF" user create --uid=tributary --display-name=tributary \
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
