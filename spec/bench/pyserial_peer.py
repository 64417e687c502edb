#!/usr/bin/python3
"""bench/pyserial_peer.py: what users write instead of modemftp.

A straightforward pyserial script (Debian python3-serial, /usr/bin/python3)
doing the same transfers over the same pty: the same commands, the payload
streamed to/from a file, and the end of a download found the same
self-validating way (the trailer's <transferlen> must equal the number of
payload bytes before it, so a trailer-like run inside the data cannot end
the file early).

    pyserial_peer.py get PTY OUT     AT+QFTPSIZE, AT+QFTPGET="bench.bin","COM:" into OUT
    pyserial_peer.py put PTY IN      AT+QFTPPUT="bench-up.bin","COM:",0,<size>,1 from IN

Prints one line: bytes=N wall_us=W cpu_us=C (the transfer alone; cpu is
time.process_time(): user+sys of this process).
"""
import os
import re
import sys
import time

import serial

TRAILER = re.compile(rb"(?:\r\n)?OK\r\n\r\n\+QFTPGET: (\d+),(\d+)\r\n")
HOLD = 64  # bytes kept back: a trailer line fits


def command(ser, cmd, want):
    """Send cmd, read lines until one starts with want; return it."""
    ser.write(cmd + b"\r")
    while True:
        line = ser.readline()
        if not line:
            raise SystemExit("pyserial_peer: no answer to %r" % cmd)
        line = line.strip()
        if line.startswith(b"ERROR") or line.startswith(b"+CME ERROR"):
            raise SystemExit("pyserial_peer: %r: %r" % (cmd, line))
        if line.startswith(want):
            return line


def get(ser, out):
    size = int(command(ser, b'AT+QFTPSIZE="bench.bin"', b"+QFTPSIZE:").split(b",")[1])
    command(ser, b'AT+QFTPGET="bench.bin","COM:"', b"CONNECT")
    received = 0
    hold = b""
    with open(out, "wb") as f:
        while True:
            data = ser.read(ser.in_waiting or 1)
            if not data:
                raise SystemExit("pyserial_peer: timeout after %d bytes" % received)
            buf = hold + data
            end = None
            for m in TRAILER.finditer(buf):
                if int(m.group(1)) == 0 and int(m.group(2)) == received + m.start() == size:
                    end = m.start()
                    break
            if end is not None:
                f.write(buf[:end])
                received += end
                break
            keep = max(len(buf) - HOLD, 0)
            f.write(buf[:keep])
            received += keep
            hold = buf[keep:]
    return received


def put(ser, inp):
    size = os.path.getsize(inp)
    command(ser, b'AT+QFTPPUT="bench-up.bin","COM:",0,%d,1' % size, b"CONNECT")
    with open(inp, "rb") as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            ser.write(chunk)
    while True:
        line = ser.readline()
        if not line:
            raise SystemExit("pyserial_peer: no +QFTPPUT after the data")
        if line.startswith(b"+QFTPPUT:"):
            err, n = line.strip()[len(b"+QFTPPUT:"):].split(b",")
            if int(err) != 0 or int(n) != size:
                raise SystemExit("pyserial_peer: %r" % line)
            return size


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("get", "put"):
        sys.stderr.write("usage: pyserial_peer.py get PTY OUT | put PTY IN\n")
        return 2
    mode, pty, path = sys.argv[1:]
    ser = serial.Serial(pty, 115200, timeout=10)
    t0, c0 = time.monotonic(), time.process_time()
    n = get(ser, path) if mode == "get" else put(ser, path)
    t1, c1 = time.monotonic(), time.process_time()
    ser.close()
    print("bytes=%d wall_us=%d cpu_us=%d" % (n, (t1 - t0) * 1e6, (c1 - c0) * 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
