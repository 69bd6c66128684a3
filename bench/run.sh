#!/usr/bin/env bash
# bench/run.sh: whole-process benchmarks of runsc against native execution, a
# bare PTRACE_SYSEMU tracer (the floor of the ptrace platform) and proot, and
# file I/O natively and under runsc.
#
#   bench/run.sh [--only SECTIONS] [BUILD_DIR]     (default /work/main/build)
#
# SECTIONS is a comma-separated subset of getpid,spawn,processes,files
# (default: all of them), e.g. `bench/run.sh --only files`.
#
# Builds nothing: build the targets first, e.g.
#   cmake -S /work/main -B /work/main/build
#   cmake --build /work/main/build -j2 --target runsc getpid_loop sysemu_floor spawn_time pipe_pingpong file_io
#
# Prints a markdown table on stdout (progress goes to stderr).  A variant that
# cannot run (binary missing, non-zero exit, timeout, no result) shows "n/a"
# and a note; the script itself keeps going.
#
# Environment:
#   BENCH_RUNS=5        runs of every variant; the table shows the median
#   BENCH_N=200000      getpid calls per run
#   BENCH_SPAWNS=20     process starts per spawn_time run
#   BENCH_BUDGET_S=20   a sandboxed getpid run longer than this (estimated from
#                       a short probe) gets a smaller N so the run fits
#   BENCH_TIMEOUT_S=300 hard limit for any single command
#   BENCH_PINGPONG=5000 round trips per pipe_pingpong run
#   BENCH_FILE_MIB=256  size of the file the files section writes and reads
#   BENCH_FILES=10000   files the files section stats
#   BENCH_FILE_DIR=/tmp parent of the files section's scratch directory; must
#                       be a host path the sandbox sees (through its root)
#   RUNSC=PATH          runsc binary (default BUILD_DIR/runsc/runsc)
#   RUNSC_FLAGS="..."   global runsc flags, e.g. "--platform=ptrace"
#   PROOT=PATH          proot binary (default: proot from PATH)

set -u -o pipefail

SECTIONS=getpid,spawn,processes,files
if [[ ${1:-} == --only ]]; then
  if [[ -z ${2:-} ]]; then
    echo "run.sh: --only needs a list, e.g. --only files" >&2
    exit 2
  fi
  SECTIONS=$2
  shift 2
fi
declare -A WANT=()
IFS=, read -r -a _sections <<<"$SECTIONS"
for _s in "${_sections[@]}"; do
  case $_s in
    getpid | spawn | processes | files) WANT[$_s]=1 ;;
    *)
      echo "run.sh: unknown section '$_s' (getpid, spawn, processes, files)" >&2
      exit 2
      ;;
  esac
done
want() { [[ -v WANT[$1] ]]; }

BUILD=${1:-/work/main/build}
RUNS=${BENCH_RUNS:-5}
N=${BENCH_N:-200000}
SPAWNS=${BENCH_SPAWNS:-20}
BUDGET_S=${BENCH_BUDGET_S:-20}
TIMEOUT_S=${BENCH_TIMEOUT_S:-300}
RUNSC=${RUNSC:-$BUILD/runsc/runsc}
read -r -a RUNSC_GLOBAL <<<"${RUNSC_FLAGS:-}"
PROOT=${PROOT:-$(command -v proot || true)}
PROBE_N=2000

GETPID=$BUILD/bench/getpid_loop
FLOOR=$BUILD/bench/sysemu_floor
SPAWN=$BUILD/bench/spawn_time
TRUE_BIN=$(command -v true)
[[ $TRUE_BIN == /* ]] || TRUE_BIN=/bin/true

FILEIO=$BUILD/bench/file_io
FILE_MIB=${BENCH_FILE_MIB:-256}
FILE_COUNT=${BENCH_FILES:-10000}
FILE_PARENT=${BENCH_FILE_DIR:-/tmp}

for int_var in RUNS N SPAWNS BUDGET_S TIMEOUT_S FILE_MIB FILE_COUNT; do
  if ! [[ ${!int_var} =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: $int_var must be a positive integer (got '${!int_var}')" >&2
    exit 2
  fi
done
required=()
want getpid && required+=("$GETPID")
want spawn && required+=("$SPAWN")
want files && required+=("$FILEIO")
for bin in "${required[@]}"; do
  if [[ ! -x $bin ]]; then
    echo "run.sh: $bin not built; build the bench targets first:" >&2
    echo "  cmake --build $BUILD --target getpid_loop sysemu_floor spawn_time pipe_pingpong file_io" >&2
    exit 2
  fi
done

TMP=$(mktemp -d)
FDIR=""
trap 'rm -rf "$TMP" ${FDIR:+"$FDIR"}' EXIT

NOTES=()
note() { NOTES+=("$*"); }
log() { echo "run.sh: $*" >&2; }

median() {  # median of the numbers given as arguments
  printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) exit 1
      if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]
      else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# ratio A B -> "A/B" formatted, or n/a.
ratio() {
  if [[ $1 == n/a || $2 == n/a ]]; then
    echo n/a
    return
  fi
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (b <= 0) { print "n/a"; exit }
    r = a / b
    if (r >= 100) printf "%.0fx\n", r
    else if (r >= 10) printf "%.1fx\n", r
    else printf "%.2fx\n", r
  }'
}

fmt() {  # number with a sensible number of digits, or n/a
  if [[ $1 == n/a ]]; then echo n/a; return; fi
  awk -v x="$1" 'BEGIN {
    if (x >= 1000) printf "%.0f\n", x
    else if (x >= 10) printf "%.1f\n", x
    else printf "%.2f\n", x
  }'
}

# run_cmd LABEL CMD... : runs CMD under the timeout, stdout to $TMP/out,
# stderr to $TMP/err.  Returns CMD's status; logs a reason on failure.
run_cmd() {
  local label=$1
  shift
  timeout -k 5 "$TIMEOUT_S" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
  local rc=$?
  if ((rc != 0)); then
    local why
    why=$(grep -v '^\s*$' "$TMP/err" | head -n 1 | cut -c1-160)
    ((rc == 124)) && why="timed out after ${TIMEOUT_S}s"
    log "$label: exit status $rc${why:+: $why}"
    LAST_FAIL="exit status $rc${why:+ ($why)}"
  fi
  return $rc
}

# field NAME : value of NAME=<number> in $TMP/out (last occurrence).
field() {
  grep -o "$1=[0-9.eE+-]*" "$TMP/out" | tail -n 1 | cut -d= -f2
}

declare -A GP_MED GP_N SP_MED PP_MED FILE_MED

# field_variant ARRAY KEY LABEL FIELD CMD... : median over RUNS of FIELD
# printed by CMD, stored in ARRAY[KEY].
field_variant() {
  local -n out=$1
  local key=$2 label=$3 fieldname=$4
  shift 4
  out[$key]=n/a
  LAST_FAIL=""
  log "start: $label"
  local -a vals=()
  local i v
  for ((i = 1; i <= RUNS; i++)); do
    if ! run_cmd "$label (run $i)" "$@"; then
      note "$label: n/a, run $i: $LAST_FAIL"
      return
    fi
    v=$(field "$fieldname")
    if [[ -z $v ]]; then
      note "$label: n/a, run $i printed no $fieldname"
      return
    fi
    vals+=("$v")
  done
  out[$key]=$(median "${vals[@]}")
  log "  runs: ${vals[*]} -> median ${out[$key]}"
}

# getpid_variant KEY LABEL PREFIX... : median ns/call of getpid_loop run
# under PREFIX (empty prefix = native).
getpid_variant() {
  local key=$1 label=$2
  shift 2
  local -a prefix=("$@")
  GP_MED[$key]=n/a
  GP_N[$key]=$N
  LAST_FAIL=""
  log "getpid: $label"

  # Probe with a short run: does it work at all, and how fast is it?
  if ! run_cmd "$label (probe)" "${prefix[@]}" "$GETPID" "$PROBE_N"; then
    note "$label: n/a, $LAST_FAIL"
    return
  fi
  local probe
  probe=$(field ns_per_call)
  if [[ -z $probe ]]; then
    note "$label: n/a, no ns_per_call in output"
    return
  fi
  local n=$N
  local fit
  fit=$(awk -v ns="$probe" -v b="$BUDGET_S" -v n="$N" -v min="$PROBE_N" 'BEGIN {
    f = int(b * 1e9 / (ns > 0 ? ns : 1)); if (f < min) f = min
    print (f < n ? f : n) }')
  if ((fit < N)); then
    n=$fit
    note "$label: N reduced to $n (probe: $(fmt "$probe") ns/call; budget ${BUDGET_S}s per run)"
  fi
  GP_N[$key]=$n

  local -a vals=()
  local i v
  for ((i = 1; i <= RUNS; i++)); do
    if ! run_cmd "$label (run $i)" "${prefix[@]}" "$GETPID" "$n"; then
      note "$label: n/a, run $i: $LAST_FAIL"
      return
    fi
    v=$(field ns_per_call)
    if [[ -z $v ]]; then
      note "$label: n/a, run $i printed no ns_per_call"
      return
    fi
    vals+=("$v")
  done
  GP_MED[$key]=$(median "${vals[@]}")
  log "  runs: ${vals[*]} -> median ${GP_MED[$key]} ns/call"
}

# spawn_variant KEY LABEL CMD... : median (over RUNS) of spawn_time's median ms.
spawn_variant() {
  local key=$1 label=$2
  shift 2
  SP_MED[$key]=n/a
  LAST_FAIL=""
  log "start: $label"
  local -a vals=()
  local i v
  for ((i = 1; i <= RUNS; i++)); do
    if ! run_cmd "$label (run $i)" "$SPAWN" -n "$SPAWNS" -w 2 -- "$@"; then
      note "$label: n/a, run $i: $LAST_FAIL"
      return
    fi
    v=$(field median_ms)
    if [[ -z $v ]]; then
      note "$label: n/a, run $i printed no median_ms"
      return
    fi
    vals+=("$v")
  done
  SP_MED[$key]=$(median "${vals[@]}")
  log "  runs: ${vals[*]} -> median ${SP_MED[$key]} ms"
}

have_floor=1
[[ -x $FLOOR ]] || { have_floor=0; note "sysemu_floor: n/a, $FLOOR not built"; }
have_runsc=1
[[ -x $RUNSC ]] || { have_runsc=0; note "runsc do: n/a, $RUNSC not built"; }
have_proot=1
[[ -n $PROOT && -x $PROOT ]] || { have_proot=0; note "proot: skipped, not installed (apt-get install proot)"; }

# --- getpid ----------------------------------------------------------------
if want getpid; then
  getpid_variant native "native" # no prefix
  if ((have_floor)); then
    getpid_variant floor "sysemu_floor" "$FLOOR" --
  fi
  if ((have_runsc)); then
    getpid_variant runsc "runsc do" "$RUNSC" "${RUNSC_GLOBAL[@]}" do --
  fi
  if ((have_proot)); then
    getpid_variant proot "proot" "$PROOT"
    getpid_variant proot_noseccomp "proot, PROOT_NO_SECCOMP=1" env PROOT_NO_SECCOMP=1 "$PROOT"
  fi
fi

# --- process start ---------------------------------------------------------
if want spawn; then
  spawn_variant native "native" "$TRUE_BIN"
  if ((have_floor)); then
    spawn_variant floor "sysemu_floor" "$FLOOR" -- "$TRUE_BIN"
  fi
  if ((have_runsc)); then
    spawn_variant runsc "runsc do" "$RUNSC" "${RUNSC_GLOBAL[@]}" do -- "$TRUE_BIN"
  fi
  if ((have_proot)); then
    spawn_variant proot "proot" "$PROOT" "$TRUE_BIN"
  fi
fi

# --- processes inside the sandbox ------------------------------------------
# fork + exec + wait done by a program running sandboxed, and a pipe
# ping-pong between two processes, natively and under runsc.
PINGPONG=$BUILD/bench/pipe_pingpong
PP_N=${BENCH_PINGPONG:-5000}
if want processes; then
  if ((have_runsc)) && [[ -x $SPAWN ]]; then
    field_variant SP_MED inner "runsc do spawn_time" median_ms "$RUNSC" "${RUNSC_GLOBAL[@]}" do -- "$SPAWN" -n "$SPAWNS" -w 2 -- "$TRUE_BIN"
  fi
  if [[ -x $PINGPONG ]]; then
    field_variant PP_MED native "pipe ping-pong, native" ns_per_roundtrip "$PINGPONG" "$PP_N"
    if ((have_runsc)); then
      field_variant PP_MED runsc "pipe ping-pong, runsc do" ns_per_roundtrip "$RUNSC" "${RUNSC_GLOBAL[@]}" do -- "$PINGPONG" "$PP_N"
    fi
  else
    note "pipe_pingpong: n/a, $PINGPONG not built"
  fi
fi

# --- files -------------------------------------------------------------------
# file_io, natively and under runsc, on the same host paths.  Everything is
# timed inside file_io (not the sandbox start-up).  Files made on the host
# before the sandbox starts are the overlay's lower layer (reads are preads
# on FDs the gofer donated); files made inside the sandbox are in its tmpfs
# upper layer.  All reads hit the host page cache: nothing drops it.
#
# file_variant VARIANT LABEL CLEAN "FIELD..." CMD... : runs CMD RUNS times,
# removing the path CLEAN (if not empty) before each run, and stores the
# median of every FIELD in FILE_MED[FIELD:VARIANT].
file_variant() {
  local variant=$1 label=$2 clean=$3
  local -a fields
  read -r -a fields <<<"$4"
  shift 4
  local f
  for f in "${fields[@]}"; do FILE_MED[$f:$variant]=n/a; done
  LAST_FAIL=""
  log "start: $label"
  local -A fvals=()
  local i v
  for ((i = 1; i <= RUNS; i++)); do
    [[ -n $clean ]] && rm -rf -- "$clean"
    if ! run_cmd "$label (run $i)" "$@"; then
      note "$label: n/a, run $i: $LAST_FAIL"
      return
    fi
    for f in "${fields[@]}"; do
      v=$(field "$f")
      if [[ -z $v ]]; then
        note "$label: n/a, run $i printed no $f"
        return
      fi
      fvals[$f]+=" $v"
    done
  done
  for f in "${fields[@]}"; do
    # shellcheck disable=SC2086  # word splitting of the collected values
    FILE_MED[$f:$variant]=$(median ${fvals[$f]})
    log "  $f runs:${fvals[$f]} -> median ${FILE_MED[$f:$variant]}"
  done
  [[ -n $clean ]] && rm -rf -- "$clean"
  return 0
}

if want files; then
  if ! FDIR=$(mktemp -d "$FILE_PARENT/runsc-bench-XXXXXX"); then
    FDIR=""
    note "files: n/a, cannot make a scratch directory under $FILE_PARENT"
  else
    fio=("$FILEIO")
    sandboxed=("$RUNSC" "${RUNSC_GLOBAL[@]}" do -- "$FILEIO")
    sz=(-s "$FILE_MIB")
    cnt=(-n "$FILE_COUNT")
    # Sequential write, then read of the file just written (sandboxed: the
    # tmpfs upper layer), in one process.  $FDIR/w stays empty on the host.
    mkdir -p "$FDIR/w"
    file_variant native "files: write + read back, native" "$FDIR/w/bench.dat" \
      "write_mib_s write_nosync_mib_s read_mib_s" "${fio[@]}" write_read "$FDIR/w" "${sz[@]}"
    if ((have_runsc)); then
      file_variant runsc "files: write + read back, runsc do" "$FDIR/w/bench.dat" \
        "write_mib_s write_nosync_mib_s read_mib_s" "${sandboxed[@]}" write_read "$FDIR/w" "${sz[@]}"
    fi
    # Sequential read of a file made on the host (the lower layer).
    log "files: preparing $FDIR/r/bench.dat ($FILE_MIB MiB) on the host"
    if run_cmd "files: prepare read file" "${fio[@]}" seq_write "$FDIR/r" "${sz[@]}"; then
      file_variant lower_native "files: read host file, native" "" read_mib_s \
        "${fio[@]}" seq_read "$FDIR/r" "${sz[@]}"
      if ((have_runsc)); then
        file_variant lower_runsc "files: read host file, runsc do" "" read_mib_s \
          "${sandboxed[@]}" seq_read "$FDIR/r" "${sz[@]}"
      fi
    else
      note "files: host-file read n/a, preparing it failed: $LAST_FAIL"
    fi
    rm -rf -- "$FDIR/r"
    # stat of files made on the host (the lower layer).
    log "files: preparing $FILE_COUNT files in $FDIR/s on the host"
    if run_cmd "files: prepare stat files" "${fio[@]}" mkfiles "$FDIR/s" "${cnt[@]}"; then
      file_variant lower_native "files: stat host files, native" "" "stat_us stat2_us" \
        "${fio[@]}" stat "$FDIR/s" "${cnt[@]}"
      if ((have_runsc)); then
        file_variant lower_runsc "files: stat host files, runsc do" "" "stat_us stat2_us" \
          "${sandboxed[@]}" stat "$FDIR/s" "${cnt[@]}"
      fi
    else
      note "files: host-file stat n/a, preparing them failed: $LAST_FAIL"
    fi
    rm -rf -- "$FDIR/s"
    # Create the files and stat them in one process (sandboxed: the upper
    # layer; $FDIR/c does not exist on the host).
    file_variant native "files: create + stat, native" "$FDIR/c" "create_us stat_us stat2_us" \
      "${fio[@]}" mkfiles_stat "$FDIR/c" "${cnt[@]}"
    if ((have_runsc)); then
      file_variant runsc "files: create + stat, runsc do" "$FDIR/c" "create_us stat_us stat2_us" \
        "${sandboxed[@]}" mkfiles_stat "$FDIR/c" "${cnt[@]}"
    fi
  fi
fi

# --- report ----------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
rev=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)
runsc_cmd="runsc${RUNSC_FLAGS:+ $RUNSC_FLAGS} do"

echo "### Benchmarks"
echo
echo "Host: Linux $(uname -r), ${cpu:-unknown CPU}, $(nproc) CPUs; $(date -u +%Y-%m-%d); commit $rev."
echo "Every value is the median of $RUNS runs (\`bench/run.sh\`, BENCH_RUNS=$RUNS)."
if want getpid; then
echo
echo "#### getpid round trip (\`getpid_loop\`, static, $N raw \`syscall\` instructions per run)"
echo
echo "| variant | ns/call | vs native | vs SYSEMU floor | calls/run |"
echo "|---|---:|---:|---:|---:|"
gp_row() {  # key label
  local key=$1 label=$2
  [[ -v GP_MED[$key] ]] || return 0
  local m=${GP_MED[$key]}
  local fl=${GP_MED[floor]:-n/a}
  echo "| $label | $(fmt "$m") | $(ratio "$m" "${GP_MED[native]}") | $(ratio "$m" "$fl") | ${GP_N[$key]} |"
}
gp_row native "native"
gp_row floor "bare PTRACE_SYSEMU tracer (\`sysemu_floor\`)"
gp_row runsc "\`$runsc_cmd\`"
gp_row proot "\`proot\` (seccomp filter: getpid not traced)"
gp_row proot_noseccomp "\`proot\`, \`PROOT_NO_SECCOMP=1\` (PTRACE_SYSCALL)"
echo
echo "runsc / floor: **$(ratio "${GP_MED[runsc]:-n/a}" "${GP_MED[floor]:-n/a}")** per getpid."
fi
if want spawn || want processes; then
echo
echo "#### Process start (\`spawn_time\`: fork + exec + wait of \`$TRUE_BIN\`, median of $SPAWNS per run)"
echo
echo "| variant | ms | vs native |"
echo "|---|---:|---:|"
sp_row() {  # key label
  local key=$1 label=$2
  [[ -v SP_MED[$key] ]] || return 0
  local m=${SP_MED[$key]}
  local base=${SP_MED[native]:-}  # absent when only some sections ran
  echo "| $label | $(fmt "$m") | $( [[ -n $base ]] && ratio "$m" "$base") |"
}
sp_row native "\`$TRUE_BIN\`"
sp_row floor "\`sysemu_floor $TRUE_BIN\`"
sp_row runsc "\`$runsc_cmd $TRUE_BIN\`"
sp_row proot "\`proot $TRUE_BIN\`"
sp_row inner "fork + exec + wait inside the sandbox (\`$runsc_cmd spawn_time $TRUE_BIN\`)"
fi
if want processes; then
echo
echo "#### Pipe ping-pong (\`pipe_pingpong\`: two processes, one byte each way, $PP_N round trips per run)"
echo
echo "| variant | µs per round trip | vs native |"
echo "|---|---:|---:|"
for key in native runsc; do
  [[ -v PP_MED[$key] ]] || continue
  m=${PP_MED[$key]}
  us=n/a
  [[ $m != n/a ]] && us=$(awk -v v="$m" 'BEGIN { printf "%.2f", v / 1000 }')
  label="native"
  [[ $key == runsc ]] && label="\`$runsc_cmd\`"
  echo "| $label | $us | $(ratio "$m" "${PP_MED[native]}") |"
done
fi

if want files; then
  echo
  echo "#### Files (\`file_io\`: $FILE_MIB MiB in 1 MiB reads/writes, stat() of $FILE_COUNT files; timed inside the program)"
  echo
  echo "| operation | unit | native | \`$runsc_cmd\` | runsc time vs native |"
  echo "|---|---|---:|---:|---:|"
  # file_row FIELD NATIVE_KEY RUNSC_KEY UNIT LABEL : MiB/s rows compare
  # native/runsc (time), µs rows runsc/native.
  file_row() {
    local field=$1 nkey=$2 rkey=$3 unit=$4 label=$5
    local n=${FILE_MED[$field:$nkey]:-n/a} r=${FILE_MED[$field:$rkey]:-n/a} rt
    [[ $n == n/a && $r == n/a ]] && return 0
    if [[ $unit == MiB/s ]]; then rt=$(ratio "$n" "$r"); else rt=$(ratio "$r" "$n"); fi
    echo "| $label | $unit | $(fmt "$n") | $(fmt "$r") | $rt |"
  }
  file_row write_mib_s native runsc MiB/s "sequential write + fsync (sandboxed: tmpfs upper layer)"
  file_row write_nosync_mib_s native runsc MiB/s "sequential write, up to the last write (before fsync)"
  file_row read_mib_s lower_native lower_runsc MiB/s "sequential read of a host file (sandboxed: lower layer, donated host FD)"
  file_row read_mib_s native runsc MiB/s "sequential read of the file just written (sandboxed: tmpfs upper layer)"
  file_row stat_us lower_native lower_runsc "µs/stat" "stat of host files (lower layer), first pass"
  file_row stat2_us lower_native lower_runsc "µs/stat" "stat of host files (lower layer), second pass"
  file_row create_us native runsc "µs/file" "create (open O_CREAT + close) of files (sandboxed: upper layer)"
  file_row stat_us native runsc "µs/stat" "stat of the files just created, first pass"
  file_row stat2_us native runsc "µs/stat" "stat of the files just created, second pass"
fi

if ((${#NOTES[@]})); then
  echo
  echo "Notes:"
  echo
  for n in "${NOTES[@]}"; do
    echo "- $n"
  done
fi
exit 0
