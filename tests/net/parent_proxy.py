"""A minimal upstream ("corporate") proxy for tests/net: answers CONNECT,
logs the target, and connects every target to TARGET_IP (the test internet
has one server host).  usage: parent_proxy.py PORT TARGET_IP LOG"""
import socket
import sys
import threading

port, target, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(c):
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 8192:
        d = c.recv(4096)
        if not d:
            return
        head += d
    line = head.split(b"\r\n")[0].decode()
    with open(log, "a") as f:
        f.write(line + "\n")
    method, hostport, _ = line.split(" ")
    if method != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
        return
    port_ = int(hostport.rsplit(":", 1)[1])
    u = socket.create_connection((target, port_))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
    pipe(c, u)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(64)
while True:
    conn, _ = s.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
