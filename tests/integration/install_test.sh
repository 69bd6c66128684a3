#!/usr/bin/env bash
# `runsc install`, `runsc uninstall` and `runsc spec` on files the test
# makes: a missing daemon.json, one with other keys, invalid JSON (left
# untouched), repeated installs, runtime flags, and a bundle's config.json.
# Usage: install_test.sh RUNSC
set -u
runsc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Prints the value at a JSON path (python3 is among the installed packages).
get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("print(json.dumps(d"+sys.argv[2]+"))")' "$@"; }
self=$(readlink -f "$runsc")

# 1. A missing file is created with the runtime, path absolute.
"$runsc" install --config-file "$tmp/new/daemon.json" >/dev/null 2>"$tmp/err" \
  && [ "$(get "$tmp/new/daemon.json" '["runtimes"]["runsc"]["path"]')" = "\"$self\"" ] \
  && pass "install creates a missing daemon.json" || { fail "install into a missing file"; cat "$tmp/err"; }

# 2. Other keys and runtimes stay; flags after -- become runtimeArgs.
cat >"$tmp/daemon.json" <<'JSON'
{"log-level": "debug", "runtimes": {"other": {"path": "/usr/bin/other"}}, "storage-driver": "overlay2"}
JSON
"$runsc" install --runtime sandboxed --config-file "$tmp/daemon.json" -- --debug --strace >/dev/null
[ "$(get "$tmp/daemon.json" '["log-level"]')" = '"debug"' ] \
  && [ "$(get "$tmp/daemon.json" '["storage-driver"]')" = '"overlay2"' ] \
  && [ "$(get "$tmp/daemon.json" '["runtimes"]["other"]["path"]')" = '"/usr/bin/other"' ] \
  && pass "install keeps the other keys and runtimes" || fail "install lost other keys: $(cat "$tmp/daemon.json")"
[ "$(get "$tmp/daemon.json" '["runtimes"]["sandboxed"]["runtimeArgs"]')" = '["--debug", "--strace"]' ] \
  && pass "flags after -- are the runtime's runtimeArgs" || fail "runtimeArgs: $(cat "$tmp/daemon.json")"

# 3. Installing again replaces the entry: same file, one runtime of that name.
cp "$tmp/daemon.json" "$tmp/before.json"
"$runsc" install --runtime sandboxed --config-file "$tmp/daemon.json" -- --debug --strace >/dev/null
cmp -s "$tmp/before.json" "$tmp/daemon.json" && pass "a repeated install changes nothing" \
  || fail "a repeated install changed the file"

# 4. Invalid JSON: one-line error, exit 1, the file byte-identical.
printf '{"runtimes": {' >"$tmp/bad.json"
sum=$(sha256sum <"$tmp/bad.json")
"$runsc" install --config-file "$tmp/bad.json" >/dev/null 2>"$tmp/err"
st=$?
[ "$st" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "not valid JSON" "$tmp/err" \
  && [ "$(sha256sum <"$tmp/bad.json")" = "$sum" ] \
  && pass "invalid JSON gets a one-line error and the file is untouched" \
  || { fail "invalid JSON: status $st"; cat "$tmp/err"; }
ls "$tmp" | grep -q runsc- && fail "a temporary file was left behind" || pass "no temporary file left behind"

# 5. uninstall removes only its runtime; a second uninstall is an error.
"$runsc" uninstall --runtime sandboxed --config-file "$tmp/daemon.json" >/dev/null
[ "$(get "$tmp/daemon.json" '["runtimes"]')" = '{"other": {"path": "/usr/bin/other"}}' ] \
  && [ "$(get "$tmp/daemon.json" '["log-level"]')" = '"debug"' ] \
  && pass "uninstall removes just its runtime" || fail "uninstall: $(cat "$tmp/daemon.json")"
"$runsc" uninstall --runtime sandboxed --config-file "$tmp/daemon.json" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "is not in" "$tmp/err" && pass "uninstalling a missing runtime is an error" \
  || fail "second uninstall: $(cat "$tmp/err")"

# 6. spec writes a valid config.json once, and refuses to overwrite it.
mkdir "$tmp/bundle"
"$runsc" spec --bundle "$tmp/bundle" \
  && [ "$(get "$tmp/bundle/config.json" '["ociVersion"]')" = '"1.1.0"' ] \
  && [ "$(get "$tmp/bundle/config.json" '["process"]["args"]')" = '["sh"]' ] \
  && [ "$(get "$tmp/bundle/config.json" '["root"]["path"]')" = '"rootfs"' ] \
  && pass "spec writes a default config.json" || fail "spec"
"$runsc" spec --bundle "$tmp/bundle" 2>"$tmp/err"
[ $? = 1 ] && grep -q "exists" "$tmp/err" && pass "spec refuses to overwrite" || fail "spec overwrite: $(cat "$tmp/err")"

[ "$failures" = 0 ] && echo "all checks passed" || { echo "$failures failures"; exit 1; }
