#!/usr/bin/env python3
"""Body flood: N connections each announce a 16 MiB batch body and send it as fast as the server
takes it, then hold; the server's resident memory is sampled every second.

    lineage serve --data /tmp/flood --addr 127.0.0.1:8730 &
    python3 benches/body_flood.py 8730 "$(pgrep -f 'addr 127.0.0.1:8730')" 40

Prints the resident memory every five seconds, its peak, and how each connection ended (the
status line the server answered, or the exception the client met).
"""
import socket
import sys
import threading
import time
from collections import Counter

port, pid, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
connections = int(sys.argv[4]) if len(sys.argv) > 4 else 100
size = 16 << 20
ended = {}


def rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return 0


def flood(i):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(30)
        s.sendall(
            f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        chunk, sent = b"x" * 65536, 0
        while sent < size - 65536:
            s.sendall(chunk)
            sent += len(chunk)
        ended[i] = "held"
        s.settimeout(secs)
        answer = s.recv(200)
        ended[i] = answer.split(b"\r\n")[0].decode() if answer else "closed"
    except Exception as e:  # the server may cut a connection off: that is an outcome too
        ended[i] = type(e).__name__


threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(connections)]
for t in threads:
    t.start()
peak = 0
for k in range(secs):
    time.sleep(1)
    now = rss_mib()
    peak = max(peak, now)
    if k % 5 == 0:
        print(f"t={k}s rss={now} MiB", flush=True)
print("peak rss MiB", peak)
print(Counter(ended.values()))
