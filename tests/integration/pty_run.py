"""Run a command on a fresh pseudo-terminal; print what it wrote and exit
with its status (128+N if killed by signal N).  Used for the tty checks:
CI has no terminal of its own."""
import os
import pty
import select
import sys
import time


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: pty_run.py CMD [ARGS...]\n")
        return 2
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)
    out = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child side closed
                break
            if not data:
                break
            out += data
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
    sys.stdout.flush()
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
