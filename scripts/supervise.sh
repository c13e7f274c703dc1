#!/usr/bin/env bash
# Keeps one service running: starts CMD, and whenever it ends (a crash, kill -9, the OOM killer)
# starts it again after a back-off: 1 s, doubling up to SUPERVISE_MAX_DELAY (30 s), back to 1 s once
# a run lasted SUPERVISE_RESET (60 s). TERM or INT stops it: the signal goes to CMD (a Celery worker
# then pauses its search and exits, see worker/shutdown.py); whatever is left of CMD's process group
# after SUPERVISE_GRACE (8 s) is killed.
#
# Usage: scripts/supervise.sh [--log FILE] NAME CMD [ARG...]
# CMD's output goes to FILE (appended) or to this script's own; the supervisor's lines go to stderr.
set -uo pipefail

log=/dev/stdout
if [[ ${1:-} == --log ]]; then log=$2; shift 2; fi
if (($# < 2)); then
  echo "usage: $0 [--log FILE] NAME CMD [ARG...]" >&2
  exit 2
fi
name=$1
shift
max_delay=${SUPERVISE_MAX_DELAY:-30}
reset_after=${SUPERVISE_RESET:-60}
grace=${SUPERVISE_GRACE:-8}

set -m  # job control: each run of CMD leads its own process group, so a stop can end its children too
child=0
stopping=0
killer=0

say() { echo "supervise: $name: $*" >&2; }

stop() {
  stopping=1
  ((child)) || exit 0
  kill -TERM "$child" 2>/dev/null
  # the main loop waits for CMD; this timer ends its whole group if it overstays the grace period
  (sleep "$grace"; kill -KILL -- "-$child" 2>/dev/null) &
  killer=$!
}
trap stop TERM INT

delay=1
while :; do
  started=$SECONDS
  "$@" </dev/null >>"$log" 2>&1 &
  child=$!
  say "started (pid $child)"
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break  # else a trapped signal interrupted the wait: wait again
  done
  ended=$child
  child=0
  if ((stopping)); then
    ((killer)) && kill "$killer" 2>/dev/null
    kill -KILL -- "-$ended" 2>/dev/null  # a child CMD left behind (its pool process, say)
    say "stopped (exit status $rc)"
    exit 0
  fi
  # an orphan of CMD (a pool process still running a search and renewing its lease) goes with it
  kill -KILL -- "-$ended" 2>/dev/null
  if ((SECONDS - started >= reset_after)); then delay=1; fi
  say "exited with status $rc; restarting in $delay s"
  sleep "$delay" &
  wait $! 2>/dev/null
  ((stopping)) && exit 0
  delay=$((delay * 2 > max_delay ? max_delay : delay * 2))
done
