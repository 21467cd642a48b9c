#!/usr/bin/env python3
"""GETs one path N times, each on a new TCP connection, from one process.

Prints "status seconds bytes" per request, as curl's -w '%{http_code} %{time_total}
%{size_download}' does: the time runs from connect() to the server closing the connection
(the request asks for Connection: close), so it includes the TCP handshake and the server's
work for a new connection, but not the start-up of a client process for each request.
"""
import argparse
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True, help="already percent-encoded")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()

    request = f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\nConnection: close\r\n"
    if args.cookie:
        request += f"Cookie: {args.cookie}\r\n"
    request = (request + "\r\n").encode("ascii")

    for _ in range(args.count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", args.port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request)
            chunks = []
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    break
                chunks.append(chunk)
        seconds = time.perf_counter() - started
        response = b"".join(chunks)
        head, _, body = response.partition(b"\r\n\r\n")
        status = head.split(b" ", 2)[1].decode("ascii") if head.startswith(b"HTTP/") else "000"
        print(f"{status} {seconds:.6f} {len(body)}")


if __name__ == "__main__":
    main()
