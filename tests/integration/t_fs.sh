#!/bin/bash
# The host filesystem is read-only, the workspace writable, /tmp and /dev/shm private.
. "$(dirname "$0")/lib.sh"

OUTSIDE="$T/outside"
mkdir -p "$OUTSIDE"
echo original >"$OUTSIDE/existing"
chmod -R a+rwX "$OUTSIDE"

allowed "workspace writable" cr -- "$PROBE" write "$WS/new-file"
check "workspace write landed on the host" grep -q cordon-probe "$WS/new-file"
mkdir -p "$WS/cwd-ws"
allowed "the workspace defaults to the current directory" \
    sh -c "cd '$WS/cwd-ws' && exec timeout 60 '$CORDON' run --quiet -- '$PROBE' write '$WS/cwd-ws/f'"
denied "... and only the current directory" "EROFS|EACCES|EPERM" \
    sh -c "cd '$WS/cwd-ws' && exec timeout 60 '$CORDON' run --quiet -- '$PROBE' write '$WS/beside-cwd'"
allowed "mkdir in workspace" cr -- "$PROBE" mkdir "$WS/newdir"
allowed "unlink in workspace" cr -- "$PROBE" unlink "$WS/new-file"
check "workspace unlink happened on the host" test ! -e "$WS/new-file"
allowed "host file outside the workspace readable" cr -- "$PROBE" read "$OUTSIDE/existing"

denied "write /etc" "EROFS|EACCES|EPERM" cr -- "$PROBE" write /etc/cordon-probe-test
check "/etc/cordon-probe-test not created" test ! -e /etc/cordon-probe-test
denied "create outside the workspace" "EROFS|EACCES|EPERM" cr -- "$PROBE" create "$OUTSIDE/new"
denied "modify a file outside the workspace" "EROFS|EACCES|EPERM" cr -- "$PROBE" write "$OUTSIDE/existing"
denied "unlink outside the workspace" "EROFS|EACCES|EPERM" cr -- "$PROBE" unlink "$OUTSIDE/existing"
denied "chmod outside the workspace" "EROFS|EACCES|EPERM" cr -- "$PROBE" chmod "$OUTSIDE/existing" 0777
check "outside file unchanged" test "$(cat "$OUTSIDE/existing")" = original
check "nothing created outside" test ! -e "$OUTSIDE/new"
denied "write the parent of the workspace" "EROFS|EACCES|EPERM" cr -- "$PROBE" create "$T/beside-ws"
denied "write the user's home" "EROFS|EACCES|EPERM" cr -- "$PROBE" create "$HOME/.cordon-escaped"

fails_sh "mknod in the workspace" "mknod '$WS/null2' c 1 3"
check "no device node created" test ! -e "$WS/null2"
# Run by root, the sandbox's files belong to host root: a setuid copy of a
# shell left in the workspace would be a root shell for any local user.
if is_root; then
    fails_sh "setuid-root file in the workspace (root)" "cp /bin/true '$WS/suid' && chmod 4755 '$WS/suid' && test -u '$WS/suid'"
    check "no setuid file on the host" sh -c "! test -u '$WS/suid'"
    fails_sh "setgid file in the workspace (root)" "cp /bin/true '$WS/sgid' && chmod 2755 '$WS/sgid' && test -g '$WS/sgid'"
fi

denied "hard link from the workspace to an outside file" "EXDEV|EPERM|EACCES|EROFS" cr -- "$PROBE" link "$OUTSIDE/existing" "$WS/hardlink-out"

# Symlinks in the workspace that point outside do not extend it.
ln -s "$OUTSIDE/existing" "$WS/link-out"
ln -s "$OUTSIDE" "$WS/dirlink-out"
denied "write through a planted symlink" "EROFS|EACCES|EPERM" cr -- "$PROBE" write "$WS/link-out"
denied "create through a planted dir symlink" "EROFS|EACCES|EPERM" cr -- "$PROBE" create "$WS/dirlink-out/new2"
fails_sh "symlink made inside, then written" "ln -s '$OUTSIDE/made-inside' '$WS/l2' && echo x >'$WS/l2'"
check "symlink targets not created or changed" \
    sh -c "test ! -e '$OUTSIDE/made-inside' && test ! -e '$OUTSIDE/new2' && test \"\$(cat '$OUTSIDE/existing')\" = original"
ok "symlink inside the workspace to the workspace works" cr -c "ln -s '$WS/in-target' '$WS/l3' && echo x >'$WS/l3'"
check "in-workspace symlink write landed" test -s "$WS/in-target"

# /tmp and /var/tmp: private, empty, writable.
hostmark="cordon-host-$$-$RANDOM"
touch "/tmp/$hostmark" "/var/tmp/$hostmark"
at_exit "rm -f /tmp/$hostmark /var/tmp/$hostmark"
ok "/tmp is empty inside" cr -c 'test -z "$(ls -A /tmp)"'
denied "host /tmp file invisible" "ENOENT" cr -- "$PROBE" read "/tmp/$hostmark"
denied "host /var/tmp file invisible" "ENOENT" cr -- "$PROBE" read "/var/tmp/$hostmark"
allowed "/tmp writable inside" cr -- "$PROBE" write "/tmp/in-$hostmark"
allowed "/var/tmp writable inside" cr -- "$PROBE" write "/var/tmp/in-$hostmark"
check "sandbox /tmp writes do not reach the host" \
    sh -c "test ! -e '/tmp/in-$hostmark' && test ! -e '/var/tmp/in-$hostmark'"

# /dev/shm: a private one.
echo shared >"/dev/shm/$hostmark"
at_exit "rm -f /dev/shm/$hostmark /dev/shm/in-$hostmark"
denied "host /dev/shm file invisible" "ENOENT|EACCES" cr -- "$PROBE" read "/dev/shm/$hostmark"
allowed "/dev/shm writable inside" cr -- "$PROBE" shm-write "in-$hostmark"
check "sandbox /dev/shm write not on the host" test ! -e "/dev/shm/in-$hostmark"

# Minimal /dev.
ok "/dev has the basics" cr -c 'for d in null zero full random urandom tty; do test -c /dev/$d || exit 1; done; test -d /dev/pts && test -d /dev/shm'
ok "/dev/null writable, /dev/zero readable" cr -c 'echo x >/dev/null && head -c 4 /dev/zero | od >/dev/null'
ok "/dev lists only a minimal set" cr -c '! ls /dev | grep -E "^(sd|nvme|vd|xvd|loop|mem|kmsg|port|fuse|kvm)"'

# Workspace modes.
echo keep >"$WS/keep.txt"
ro="--workspace-mode read-only"
allowed "read-only: reads work" cr $ro -- "$PROBE" read "$WS/keep.txt"
denied "read-only: create denied" "EROFS|EACCES|EPERM" cr $ro -- "$PROBE" create "$WS/ro-new"
denied "read-only: modify denied" "EROFS|EACCES|EPERM" cr $ro -- "$PROBE" write "$WS/keep.txt"
denied "read-only: unlink denied" "EROFS|EACCES|EPERM" cr $ro -- "$PROBE" unlink "$WS/keep.txt"
check "read-only: nothing changed" sh -c "test ! -e '$WS/ro-new' && test \"\$(cat '$WS/keep.txt')\" = keep"
nd="--workspace-mode read-write-no-delete"
allowed "no-delete: create works" cr $nd -- "$PROBE" create "$WS/nd-new"
allowed "no-delete: modify works" cr $nd -- "$PROBE" write "$WS/keep.txt"
mkdir "$WS/nd-dir"
denied "no-delete: unlink denied" "EACCES|EPERM|EROFS" cr $nd -- "$PROBE" unlink "$WS/nd-new"
denied "no-delete: rmdir denied" "EACCES|EPERM|EROFS" cr $nd -- "$PROBE" unlink "$WS/nd-dir"
check "no-delete: files still there" sh -c "test -e '$WS/nd-new' && test -d '$WS/nd-dir'"
done_testing
