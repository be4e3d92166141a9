#!/bin/bash
# Kernel attack surface: refused by seccomp with a specific errno.
. "$(dirname "$0")/lib.sh"

for s in bpf keyctl perf_event_open userfaultfd io_uring_setup unshare-user unshare-mount mount \
    init_module kexec_load; do
    denied "syscall $s" "EPERM" cr -- "$PROBE" syscall "$s"
done
denied "syscall socket-packet" "EPERM|EAFNOSUPPORT" cr -- "$PROBE" syscall socket-packet
denied "syscall socket-netlink-audit" "EPERM|EAFNOSUPPORT" cr -- "$PROBE" syscall socket-netlink-audit
denied "syscall clone3" "ENOSYS" cr -- "$PROBE" syscall clone3

# Positive twins: what programs need keeps working.
allowed "socket unix" cr -- "$PROBE" syscall socket-unix
allowed "socket inet" cr -- "$PROBE" syscall socket-inet
allowed "socket netlink-route" cr -- "$PROBE" syscall socket-netlink-route
ok "fork and exec work (sh pipeline)" cr -c 'echo a | tr a b | grep -q b'
ok "threads work (python3)" cr -- /usr/bin/python3 -c 'import threading; t=threading.Thread(target=lambda:None); t.start(); t.join()'
allowed "--allow-nested-userns permits unshare(CLONE_NEWUSER)" cr --allow-nested-userns -- "$PROBE" syscall unshare-user
done_testing
