"""Sends one DNS query over UDP and prints the rcode and answers.
usage: dnsq.py SERVER NAME [TYPE]  (TYPE: A=1, AAAA=28, TXT=16)"""
import random
import socket
import struct
import sys

server, name = sys.argv[1], sys.argv[2]
qtype = int(sys.argv[3]) if len(sys.argv) > 3 else 1
qid = random.randint(0, 65535)
msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    msg += bytes([len(label)]) + label.encode()
msg += b"\0" + struct.pack(">HH", qtype, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(msg, (server, 53))
try:
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
