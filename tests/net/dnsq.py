"""Sends one DNS query over UDP and prints the rcode and answers.
usage: dnsq.py [--tcp] SERVER NAME [TYPE]  (TYPE: A=1, AAAA=28, TXT=16)"""
import random
import socket
import struct
import sys

args = sys.argv[1:]
tcp = args[0] == "--tcp"
if tcp:
    args = args[1:]
server, name = args[0], args[1]
qtype = int(args[2]) if len(args) > 2 else 1
qid = random.randint(0, 65535)
msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    msg += bytes([len(label)]) + label.encode()
msg += b"\0" + struct.pack(">HH", qtype, 1)
try:
    if tcp:
        s = socket.create_connection((server, 53), timeout=3)
        s.sendall(struct.pack(">H", len(msg)) + msg)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
            d = s.recv(4096)
            if not d:
                break
            data += d
        data = data[2:]
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(msg, (server, 53))
        data, _ = s.recvfrom(4096)
except socket.timeout:
    print("timeout")
    sys.exit(3)
rcode = data[3] & 0xF
an = struct.unpack(">H", data[6:8])[0]
names = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED", 1: "FORMERR"}
out = [names.get(rcode, str(rcode))]
if an and qtype == 1:
    out.append(socket.inet_ntoa(data[-4:]))
print(" ".join(out))
