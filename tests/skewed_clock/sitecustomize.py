"""A host whose clock is off, for tests of several hosts: a process started with this folder first on PYTHONPATH
reads the wall clock (time.time, datetime.now) PCLOUD_TEST_CLOCK_BEHIND seconds behind, ticking on; its monotonic
clock, sleeps and timeouts are the machine's (time-machine patches the wall clock only)."""

import os
import time

import time_machine

time_machine.travel(time.time() - float(os.environ["PCLOUD_TEST_CLOCK_BEHIND"]), tick=True).start()
