# Fetches paths from an HTTP server with urllib.request and prints, for each,
# the status, content type, length and md5 of the body (and the body itself
# when it is short text). Usage: net_http_fetch.py LABEL BASE_URL PATH...
# LABEL stands for BASE_URL in the output, so the server's port never shows.
# Run by net_cases.sh (network_test.sh).
import hashlib
import sys
import urllib.error
import urllib.request

label, base, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
for path in paths:
    try:
        with urllib.request.urlopen(base + path, timeout=10) as r:
            status, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        status, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
    line = f"urllib {label}{path}: {status} {ctype} {len(body)} bytes md5={hashlib.md5(body).hexdigest()}"
    if len(body) <= 64 and ctype and ctype.startswith("text/plain"):
        line += f" body={body!r}"
    print(line)
