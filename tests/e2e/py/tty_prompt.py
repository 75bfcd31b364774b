"""Runs a command on a pseudo-terminal, answers its two credential prompts with argv[1] and
prints everything the terminal showed (to check that the typed secret is not echoed)."""
import os, pty, sys, time
secret = sys.argv[1].encode() + b"\n"
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out = b""
def read_until(token, timeout=20):
    global out
    end = time.time() + timeout
    while token not in out and time.time() < end:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
for prompt in (b"Credential: ", b"Repeat credential: "):
    read_until(prompt)
    os.write(fd, secret)
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
