#!/usr/bin/env python3
"""Drive a program through a pseudo-terminal, as a person at a terminal would.

usage: ptydrive.py STEPS.json -- COMMAND [ARGS...]

STEPS is a JSON array of steps:
  ["send", "text"]            type text ("\\u0003" is Ctrl-C, "\\t" Tab)
  ["expect", "regex", secs]   wait up to secs for regex in the output since
                              the last match (fails the run on timeout)
  ["sleep", secs]
After the steps the program gets Ctrl-D and has 5 s to exit; its exit status
is printed as the last line "exit N". Everything the program wrote is
printed first. Exit status 0 when every expect matched, else 1.
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    steps = json.load(open(sys.argv[1]))
    cmd = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "dumb"
        os.execvp(cmd[0], cmd)
    out = b""
    mark = 0
    failed = None

    def pump(timeout):
        nonlocal out
        r, _, _ = select.select([fd], [], [], timeout)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            out += data
        return True

    for step in steps:
        kind = step[0]
        if kind == "send":
            os.write(fd, step[1].encode())
        elif kind == "sleep":
            end = time.monotonic() + step[1]
            while time.monotonic() < end:
                pump(max(0, end - time.monotonic()))
        elif kind == "expect":
            rx = re.compile(step[1].encode(), re.S)
            end = time.monotonic() + step[2]
            while True:
                m = rx.search(out, mark)
                if m:
                    mark = m.end()
                    break
                left = end - time.monotonic()
                if left <= 0 or not pump(min(left, 0.2)):
                    if rx.search(out, mark):
                        continue
                    failed = "timeout waiting for %r" % step[1]
                    break
            if failed:
                break
    try:
        os.write(fd, b"\x04")
    except OSError:
        pass
    status = None
    end = time.monotonic() + 5
    while time.monotonic() < end:
        pump(0.1)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = "killed"
    while pump(0.05):
        pass
    sys.stdout.write(out.decode("utf-8", "replace"))
    sys.stdout.write("\n")
    if failed:
        sys.stdout.write("FAILED: %s\n" % failed)
    sys.stdout.write("exit %s\n" % status)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
