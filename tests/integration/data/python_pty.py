# An interactive bash on a pseudo-terminal that Python makes (pty.fork:
# /dev/ptmx, a new session, the slave as its controlling terminal), driven
# as a person at a keyboard would: a command, ^C to a foreground job, ^Z
# and a stopped job, cat reading lines until ^D, a window size change, and
# the line discipline's editing. Prints what it saw, with the pty's number
# masked; the same output is expected natively and sandboxed.
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios


def read_until(fd, pattern, limit=20.0):
    """Reads the master until `pattern` (a regex) matches; returns the text."""
    data = b""
    while not re.search(pattern, data):
        ready, _, _ = select.select([fd], [], [], limit)
        if not ready:
            sys.exit("timed out waiting for %r; got %r" % (pattern, data))
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the slave side is gone
            break
        if not chunk:
            break
        data += chunk
    return data


def send(fd, text):
    os.write(fd, text.encode())


def show(label, value):
    print("%s: %s" % (label, re.sub(r"pts/\d+", "pts/N", value)))


pid, master = pty.fork()
if pid == 0:
    os.environ["PS1"] = "$ "
    os.environ["TERM"] = "dumb"
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])

read_until(master, rb"\$ ")
# Markers are arithmetic so that the echo of the typed line never matches.
send(master, "tty; echo m$((1+1))\n")
out = read_until(master, rb"\nm2\r\n")
show("tty", out.decode().split("\r\n")[1])

# ^C reaches the foreground job only; bash reports 130 (128 + SIGINT).
send(master, "sh -c 'echo s$((2+1)); exec sleep 100'\n")
read_until(master, rb"\ns3\r\n")
send(master, "\x03")
read_until(master, rb"\$ ")
send(master, "echo status=$?\n")
out = read_until(master, rb"status=\d+")
show("after ^C", re.search(rb"status=\d+", out).group().decode())

# ^Z stops it (148 = 128 + SIGTSTP); the job is listed as stopped.
send(master, "sh -c 'echo s$((3+1)); exec sleep 100'\n")
read_until(master, rb"\ns4\r\n")
send(master, "\x1a")
read_until(master, rb"\$ ")
send(master, "echo status=$?; jobs; echo m$((4+1))\n")
out = read_until(master, rb"\nm5\r\n").decode()
show("after ^Z", re.search(r"status=\d+", out).group())
show("jobs", "stopped" if re.search(r"\[1\]\+\s+Stopped", out) else "not stopped: " + out)
send(master, "kill -9 %1; wait; echo m$((5+1))\n")
read_until(master, rb"\nm6\r\n")

# cat reads whole lines; erase and kill edit them; ^D ends its input.
# (Typing waits until cat runs: what is typed while bash's readline has
# the terminal in raw mode reaches cat unedited.)
send(master, "sh -c 'echo c$((7+1)); exec cat'\n")
read_until(master, rb"\nc8\r\n")
send(master, "helo\x7flo\n")
show("erase, echo and cat", repr(read_until(master, rb"lo\r\nhello\r\n")))
send(master, "junk\x15world\n")
show("kill, echo and cat", repr(read_until(master, rb"world\r\nworld\r\n")))
send(master, "\x04")
read_until(master, rb"\$ ")

# A new window size reaches the shell's terminal (stty size).
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))
send(master, "stty size; echo m$((6+1))\n")
out = read_until(master, rb"\nm7\r\n").decode()
show("stty size", out.split("\r\n")[1])

send(master, "exit 7\n")
read_until(master, rb"(?!)")  # until EIO: the shell closed the slave
_, status = os.waitpid(pid, 0)
show("bash exit", str(os.waitstatus_to_exitcode(status)))
