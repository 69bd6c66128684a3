#!/usr/bin/env bash
# bench/oci_run.sh: end-to-end start-up cost of runsc against runc.
#
#   bench/oci_run.sh [RUNSC]          (default /work/main/build/runsc/runsc)
#
# Measures the wall time of a container that runs /bin/true, two ways:
#   1. `runc run` and `runsc run` on the same bundle (a busybox-static rootfs,
#      config.json from `runsc spec` set to run /bin/true without a terminal),
#      each with its own --root state directory;
#   2. `docker run --rm --runtime=runc IMG /bin/true` and the same with
#      --runtime=runsc, against a private dockerd (own data/exec roots and
#      socket, runsc added by `runsc install --config-file`, like
#      tests/e2e/docker_test.sh) and a busybox image brought in by
#      `docker import`. One untimed warm-up run of each first.
# Runs alternate runc/runsc so machine noise hits both. Each command is timed
# with bash's $EPOCHREALTIME (no fork around the measurement).
#
# Prints a markdown table on stdout (medians, minimums, ratio runsc/runc of
# the medians); progress and notes go to stderr. A section whose tools are
# missing is skipped with a note. Needs root.
#
# Environment: BENCH_RUNS=10 (timed runs of each variant).

set -u -o pipefail
export LC_ALL=C  # $EPOCHREALTIME with a "." decimal point
runsc=$(realpath "${1:-/work/main/build/runsc/runsc}")
runs=${BENCH_RUNS:-10}
busybox=$(command -v busybox) || { echo "oci_run.sh: needs busybox (static)" >&2; exit 1; }
[ -x "$runsc" ] || { echo "oci_run.sh: no runsc at $runsc" >&2; exit 1; }
. "$(dirname "$0")/../tests/e2e/lib.sh"

tmp=$(mktemp -d /tmp/bench-oci.XXXXXX)
cleanup() {
  stop_private_dockerd "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "$*" >&2; }

# us LIST-VAR CMD...: run CMD (output discarded), append its wall time in µs.
us() {
  local -n out=$1; shift
  local t0=$EPOCHREALTIME t1
  "$@" >/dev/null 2>>"$tmp/errors" || { log "  failed ($?): $*"; fails=$((fails + 1)); }
  t1=$EPOCHREALTIME
  out+=($(( ${t1/./} - ${t0/./} )))
}
# row WHAT: one table row from the arrays a (runc) and b (runsc).
row() {
  python3 - "$1" "${a[*]}" "${b[*]}" "$fails" <<'EOF'
import statistics, sys
what, a, b, fails = sys.argv[1], *([int(x) / 1000 for x in s.split()] for s in sys.argv[2:4]), sys.argv[4]
ma, mb = statistics.median(a), statistics.median(b)
note = "" if fails == "0" else f" ({fails} failed runs)"
print(f"| {what}{note} | {ma:.1f} (min {min(a):.1f}) | {mb:.1f} (min {min(b):.1f}) | {mb / ma:.2f} |")
EOF
}

echo "| what (N=$runs each, interleaved) | runc median ms | runsc median ms | ratio runsc/runc |"
echo "|---|---|---|---|"

# 1. runc run / runsc run on one bundle.
bundle="$tmp/bundle"
busybox_rootfs "$bundle/rootfs" "$busybox" sh true echo
"$runsc" spec --bundle "$bundle"
python3 - "$bundle/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"], c["process"]["terminal"] = ["/bin/true"], False
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
if command -v runc >/dev/null; then
  log "runc run / runsc run: $runs runs each"
  a=() b=() fails=0
  for i in $(seq "$runs"); do
    us a runc --root "$tmp/runc-state" run --bundle "$bundle" "id-$i"
    us b "$runsc" --root "$tmp/runsc-state" run --bundle "$bundle" "id-$i"
  done
  row "\`runc run\` vs \`runsc run\`, same bundle"
else
  log "note: runc not installed; skipping the bundle section"
fi

# 2. docker run --rm with each runtime, against a private dockerd.
if ! command -v dockerd >/dev/null || [ -z "$docker_cli" ]; then
  log "note: dockerd or the docker client is missing; skipping the docker section"
  exit 0
fi
if ! start_private_dockerd "$runsc" "$tmp"; then
  log "note: dockerd did not start; skipping the docker section"
  exit 0
fi
tar -C "$bundle/rootfs" -c . | D import - bench-oci:busybox >/dev/null || { log "docker import failed"; exit 1; }
log "docker run --rm: warm-up, then $runs runs each"
a=() b=() fails=0
us a D run --rm --runtime=runc bench-oci:busybox /bin/true
us b D run --rm --runtime=runsc bench-oci:busybox /bin/true
a=() b=()
for i in $(seq "$runs"); do
  us a D run --rm --runtime=runc bench-oci:busybox /bin/true
  us b D run --rm --runtime=runsc bench-oci:busybox /bin/true
done
row "\`docker run --rm IMG /bin/true\`"
