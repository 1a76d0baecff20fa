#!/usr/bin/env bash
# Installs Debian's docker.io when missing and starts or stops a Docker engine
# that leaves the host network alone (no iptables, no bridge: containers use
# network_mode none or host).
#
#   scripts/dockerd.sh start        # idempotent; exits non-zero if the engine cannot start
#   scripts/dockerd.sh stop         # stops only an engine this script started
#   scripts/dockerd.sh run CMD...   # runs CMD with an engine up; afterwards stops
#                                   # the engine only if this call started it
set -euo pipefail

STATE=${PROMGEN_DOCKERD_STATE:-/tmp/promgen-dockerd}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log

log() { echo "dockerd.sh: $*" >&2; }

engine_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
	if engine_up; then
		log "engine already running: $(docker version --format '{{.Server.Version}}')"
		return 0
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		log "installing Debian's docker.io"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq docker.io >&2
	fi
	mkdir -p "$STATE"
	log "starting dockerd (log: $LOG)"
	nohup dockerd --iptables=false --ip6tables=false --bridge=none \
		--pidfile "$STATE/dockerd.daemon.pid" >"$LOG" 2>&1 &
	echo $! >"$PIDFILE"
	for _ in $(seq 1 60); do
		if engine_up; then
			log "engine up: $(docker version --format '{{.Server.Version}}')"
			return 0
		fi
		if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
		sleep 1
	done
	log "dockerd did not come up; last log lines:"
	tail -20 "$LOG" >&2 || true
	return 1
}

stop() {
	[ -f "$PIDFILE" ] || return 0
	local pid; pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping dockerd ($pid)"
		kill "$pid"
		for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
}

# run CMD...: a caller such as `make test` must not stop an engine that was
# already up (a developer's, or the one .ci/run started for several steps).
run() {
	if engine_up; then
		"$@"
		return
	fi
	start
	trap stop EXIT
	"$@"
}

case ${1:-} in
start) start ;;
stop) stop ;;
run) shift; [ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }; run "$@" ;;
*) echo "usage: $0 start|stop|run CMD..." >&2; exit 2 ;;
esac
