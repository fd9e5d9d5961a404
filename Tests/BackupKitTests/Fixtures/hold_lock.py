#!/usr/bin/env python3
"""Holds an exclusive flock on LOCK_FILE, as a running backup does, until killed.

Usage: hold_lock.py LOCK_FILE
Prints "locked" once the lock is held.
"""
import fcntl
import sys
import time

handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
while True:
    time.sleep(1)
