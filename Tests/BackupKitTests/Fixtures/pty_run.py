"""Runs a command on a pseudo-terminal, as a person at a terminal would.

usage: pty_run.py [--answer TEXT]... [--interrupt-on TEXT] -- COMMAND [ARG]...

stdin, stdout and stderr of COMMAND are the terminal. Each --answer is typed (with Enter)
when the output shows a question (a line ending in '] '), in order. With --interrupt-on,
Ctrl-C is typed once the output shows TEXT (the terminal sends SIGINT, as for a person). Everything the
terminal showed is printed on stdout, unchanged; the exit code is COMMAND's.
"""
import os
import pty
import select
import sys
import time


def main():
    args = sys.argv[1:]
    answers = []
    interrupt_on = None
    while args and args[0] in ("--answer", "--interrupt-on"):
        if args[0] == "--answer":
            answers.append(args[1])
        else:
            interrupt_on = args[1].encode()
        args = args[2:]
    if not args or args[0] != "--":
        sys.exit("usage: pty_run.py [--answer TEXT]... [--interrupt-on TEXT] -- COMMAND [ARG]...")
    command = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen = b""
    asked = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if interrupt_on and interrupt_on in seen:
                interrupt_on = None
                os.write(fd, b"\x03")
            if answers and seen.rstrip(b" ").endswith(b"]") and seen.count(b"] ") > asked:
                asked = seen.count(b"] ")
                os.write(fd, answers.pop(0).encode() + b"\r")
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(seen)
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
