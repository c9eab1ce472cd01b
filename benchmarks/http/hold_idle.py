#!/usr/bin/env python3
"""Holds N idle keep-alive connections to a server for bench_http.sh: each connects from one
of the loopback addresses 127.0.0.2.. (PER_ADDRESS connections each, as many clients would),
asks for PATH once, reads the answer, and then stays open without a byte more. Prints
"held N" once all are open, then every 5 s how many the server still keeps open, until it is
killed (SIGTERM).

    hold_idle.py PORT N PER_ADDRESS PATH
"""
import resource
import selectors
import signal
import socket
import sys
import time


def main():
    port, n, per, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    req = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    socks, failed = [], 0
    sel = selectors.DefaultSelector()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((f"127.0.{2 + i // per // 250}.{2 + (i // per) % 250}", 0))
            s.connect(("127.0.0.1", port))
            s.sendall(req)
        except OSError:
            failed += 1
            s.close()
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    # Read every answer (head and body, whatever their length), then nothing more.
    deadline = time.time() + 60
    pending = len(socks)
    answered = {}
    while pending and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if key.fileobj not in answered:
                answered[key.fileobj] = True
                pending -= 1
            if not data:
                sel.unregister(key.fileobj)
    print(f"held {len(socks)} (connect failures {failed}, unanswered {pending})", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    while not stop:
        time.sleep(5)
        alive = 0
        for s in socks:
            try:
                alive += s.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        print(f"open {alive}", flush=True)


if __name__ == "__main__":
    main()
