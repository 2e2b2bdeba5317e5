"""Running a script job (GLUE_PYTHON, GLUE_SHELL) inside a worker's child process.

The child (``child.invoke``) reads the job's current source and calls ``run_script``: the source is written
into a fresh temporary directory, which is also the script's working directory and HOME, and run as a
subprocess of the child, in the child's process group. The child is a subreaper, so whatever the script
starts stays below it even in a new session (``setsid``, a double fork); the pool kills a run (timeout,
logKill, COVER_EARLY) with all of the child's descendants (``pool.kill_tree``) and its group, and what a
script that ended left running is killed then (``_kill_leftovers``). Its standard
output and error are the child's, i.e. the run log, line by line as it writes them.

What the script gets (the XXL-JOB convention, plus environment variables):

- interpreter: ``python3 -I`` found on ``PATH`` below (the system's, not the server's virtualenv), or
  ``/bin/sh``;
- arguments: ``$1`` / ``sys.argv[1]`` the job's parameter ("" when none), ``$2`` the shard index,
  ``$3`` the shard total;
- environment, and nothing else: ``JOB_PARAM``, ``JOB_SHARD_INDEX``, ``JOB_SHARD_TOTAL``,
  ``JOB_TIMEOUT`` (seconds, 0 = none), ``JOB_ID``, ``JOB_LOG_ID``, plus ``PATH``, ``HOME``, ``TMPDIR``,
  ``LANG``, ``TZ`` (the console's zone). The worker's own environment (``PCLOUD_*``, ``DATABASE_URL``, the secret
  key, SMTP settings) is never passed.

What it cannot read (tests/test_jobs_glue.py replays each): its own ``/proc/self/environ`` holds only the
above; the worker, its fork server and the child are marked not dumpable (``PR_SET_DUMPABLE`` 0), so the
kernel refuses ``/proc/<pid>/environ`` and ``/proc/<pid>/mem`` of them to a process of the same user; a
worker running as root runs its scripts as ``nobody`` (65534), since root reads /proc of non-dumpable
processes too. What a script can still do, as any program of its user can: read the files that user may
read (for a worker not running as root, ``instance/`` with the generated secret key and a SQLite database
file of that same user; other processes of that user that are not marked non-dumpable, such as a web
server on the same host) and reach the network. Run the worker as a user of its own, with the secret key
and the database password in its environment only, to close that (docs/API.md, "Script jobs").
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from pcloud.core.i18n import said
from pcloud.core.messages import N_
from pcloud.jobs.worker.pool import kill_tree

PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
CAP_SYS_PTRACE = 19
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
NOBODY = 65534  # the user (and group) a root worker runs scripts as
SCRIPT_FILES = {"GLUE_PYTHON": "script.py", "GLUE_SHELL": "script.sh"}


class ScriptFailed(Exception):
    """The script ended with a non-zero exit code (or could not start)."""


def _prctl(option: int, arg: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    return libc.prctl(option, ctypes.c_ulong(arg), zero, zero, zero)  # unsigned longs: prctl is variadic


def make_undumpable() -> None:
    """Linux: other processes of this user may no longer read this process's /proc environ or memory
    (nor attach a debugger). Also disables its core dumps. Reset by exec, so a script is not affected."""
    with contextlib.suppress(Exception):
        _prctl(PR_SET_DUMPABLE, 0)


def _drop_privileges() -> None:
    """In the script's process before exec. A worker running as root runs its scripts as nobody (root reads
    every process's /proc environ whatever its dumpable flag, CAP_SYS_PTRACE dropped or not: seen on Linux
    6.18); it also drops CAP_SYS_PTRACE from the bounding set. An unprivileged worker's script keeps its
    user (it cannot change it), and the non-dumpable worker processes are what protect their environment."""
    with contextlib.suppress(Exception):
        _prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def _kill_leftovers() -> int:
    """What the script left running (`sleep 600 &`, `setsid sleep 600 &`, a double fork) and exit: killed when
    the script ends, so it neither runs on unattended nor writes into the next run's log through the
    inherited output pipe. This child is a subreaper (pool._become_subreaper), so all of it is still below
    it, whatever session it made. The killed are reaped here. Returns how many were killed."""
    killed = kill_tree(os.getpid(), include_root=False)
    deadline = time.monotonic() + 5
    while killed and time.monotonic() < deadline:  # the orphans re-parented to this child are its to reap
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.005)  # a SIGKILLed process takes a moment to become a zombie
    return killed


def script_environment(workdir: str, param: str, shard_index: int, shard_total: int, timeout: int,
                       job_id: int | None, run_id: int, zone: str) -> dict[str, str]:
    """Everything the script's environment holds: built from nothing, never from os.environ."""
    return {
        "PATH": SAFE_PATH, "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1", "JOB_PARAM": param, "JOB_SHARD_INDEX": str(shard_index),
        "JOB_SHARD_TOTAL": str(shard_total), "JOB_TIMEOUT": str(timeout), "JOB_ID": str(job_id or ""),
        "JOB_LOG_ID": str(run_id),
        "TZ": zone,  # `date` and the like in the console's zone (PCLOUD_TIMEZONE), as the run's own times are shown
    }


def command(glue_type: str, path: str) -> list[str]:
    if glue_type == "GLUE_PYTHON":
        # The system's python3 on SAFE_PATH, not the server's virtualenv (a script has no business importing
        # the application, and a root worker's script, run as nobody, may not even enter it).
        # -I: no PYTHON* variables, no user site, the script's directory not put first on sys.path
        return [shutil.which("python3", path=SAFE_PATH) or sys.executable, "-I", path]
    return ["/bin/sh", path]


def run_script(glue_type: str, source: str, *, param: str, shard_index: int, shard_total: int, timeout: int,
               job_id: int | None, run_id: int, zone: str) -> str:
    """Run `source` to its end; its output goes to this process's fds 1 and 2 (the run log). Returns the
    run's message; raises ScriptFailed on a non-zero exit."""
    if glue_type not in SCRIPT_FILES:
        raise ScriptFailed(said(N_("不支持的运行模式：%(type)s"), type=glue_type))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with tempfile.TemporaryDirectory(prefix="pcloud-glue-") as workdir:
        path = os.path.join(workdir, SCRIPT_FILES[glue_type])
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(source)
        os.chmod(path, 0o700)
        if os.geteuid() == 0:  # the script runs as nobody: its directory and file are nobody's
            for owned in (workdir, path):
                os.chown(owned, NOBODY, NOBODY)
        env = script_environment(workdir, param, shard_index, shard_total, timeout, job_id, run_id, zone)
        args: list[Any] = [*command(glue_type, path), param, str(shard_index), str(shard_total)]
        try:
            # same process group as this child (no new session): the pool's killpg reaches the script
            proc = subprocess.Popen(args, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=1, stderr=2,
                                    close_fds=True, preexec_fn=_drop_privileges)  # noqa: PLW1509
        except OSError as exc:
            raise ScriptFailed(said(N_("脚本无法启动：%(why)s"), why=exc)) from None
        code = proc.wait()
        _kill_leftovers()
    if code != 0:
        raise ScriptFailed(said(N_("脚本退出码 %(code)s"), code=code))
    return N_("脚本执行成功（退出码 0）")
