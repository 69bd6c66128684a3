# Python's process machinery: subprocess, os.fork/waitpid, signals.
import os
import signal
import subprocess
import select

print(subprocess.run(["echo", "from a child"], capture_output=True, text=True).stdout, end="")
print("false ->", subprocess.run(["false"]).returncode)
out = subprocess.check_output("echo one; echo two | tr a-z A-Z", shell=True, text=True)
print(out, end="")

pid = os.fork()
if pid == 0:
    os._exit(42)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("handled", got)

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"ping")
    os._exit(0)
os.close(w)
ready, _, _ = select.select([r], [], [], 10)
print("select ready", ready == [r], os.read(r, 4))
os.waitpid(pid, 0)
