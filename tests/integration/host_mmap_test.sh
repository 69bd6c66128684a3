#!/usr/bin/env bash
# Shared mappings of host files (--overlay2=none: the gofer's tree is
# written in place). Inside the sandbox a store through one mapping is seen
# by read(2) and by another process's mapping, and write(2) by the
# mappings; what was stored reaches the host file by the time the program
# exits, without msync. Usage: host_mmap_test.sh RUNSC
set -u
runsc=$1
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
head -c 8192 /dev/zero >"$dir/data"
cat >"$dir/prog.py" <<'PY'
import mmap, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED)
m[0:5] = b"hello"
m[4096:4101] = b"world"
print("read sees the store:", os.pread(fd, 5, 0) == b"hello")
os.pwrite(fd, b"WRITE", 100)
print("the mapping sees write(2):", m[100:105] == b"WRITE")
pid = os.fork()
if pid == 0:
    other = mmap.mmap(os.open(path, os.O_RDWR), 8192, mmap.MAP_SHARED)
    ok = other[4096:4101] == b"world"
    other[200:205] = b"child"
    os._exit(0 if ok else 1)
_, status = os.waitpid(pid, 0)
print("another process's mapping sees it:", os.waitstatus_to_exitcode(status) == 0)
print("and its store comes back:", m[200:205] == b"child")
m[300:304] = b"last"  # no msync: the exit writes it back
PY
out=$("$runsc" --overlay2=none do -- python3 "$dir/prog.py" "$dir/data" 2>&1)
echo "$out"
fail=0
echo "$out" | grep -q "False" && fail=1
[ "$(echo "$out" | grep -c ": True")" = 4 ] || fail=1
check() {  # OFFSET TEXT: the host file holds TEXT at OFFSET
  local got
  got=$(dd if="$dir/data" bs=1 skip="$1" count=${#2} 2>/dev/null | tr -d "\\0")
  if [ "$got" = "$2" ]; then echo "ok: host file has '$2' at $1"; else echo "FAIL: host file has '$got' at $1, not '$2'"; fail=1; fi
}
check 0 hello
check 4096 world
check 100 WRITE
check 200 child
check 300 last
[ "$(stat -c %s "$dir/data")" = 8192 ] || { echo "FAIL: the host file's size changed"; fail=1; }
exit $fail
