#!/usr/bin/env python3
"""A serial port that is not an AT modem, on a pty, for the exit-status specs.

usage: fakedevice.py MODE PATHFILE WATCH_PID

MODE is "silent" (reads and never answers: a wrong port, a dead interface)
or "nmea" (ignores what it reads and sends NMEA sentences, as a GNSS port
does). The pty's name is written to PATHFILE (atomically) once it is open.
It exits when the process WATCH_PID is gone, or after 120 s at most.
"""
import os
import pty
import select
import sys
import time
import tty

NMEA = b"$GPGGA,120000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main():
    mode, pathfile, watch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode not in ("silent", "nmea"):
        sys.exit("fakedevice.py: MODE is silent or nmea")
    master, slave = pty.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)  # nobody reading the pty must not stop the watch
    with open(pathfile + ".tmp", "w") as f:
        f.write(os.ttyname(slave) + "\n")
    os.rename(pathfile + ".tmp", pathfile)
    end = time.monotonic() + 120
    while time.monotonic() < end and alive(watch):
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                os.read(master, 4096)
            except OSError:
                pass
        if mode == "nmea":
            try:
                os.write(master, NMEA)
            except OSError:
                pass


if __name__ == "__main__":
    main()
