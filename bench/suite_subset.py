"""The tests of today's suite that an older commit already had (by file and function name), as pytest node ids:
to time today's harness on the suite of that day (issue 20, item 7: its goal was set on the suite of 8a71d69).

    .venv/bin/python bench/suite_subset.py 8a71d69 > /tmp/then.txt
    .venv/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder -p no:cacheprovider $(cat /tmp/then.txt)
    PCLOUD_TEST_DATABASE_URL=... .venv/bin/pytest ... -m "not browser and not no_database" $(cat /tmp/then.txt)

A test renamed since counts as new; a test kept under its name may have grown. Prints the ids one per line, in
the order of the files and of the tests in each, and how many on stderr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_DEF = re.compile(r"^(?:async )?def (test_\w+)", re.MULTILINE)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def test_names(text: str) -> list[str]:
    return TEST_DEF.findall(text)


def main(revision: str) -> None:
    then_files = [p for p in git("ls-tree", "-r", "--name-only", revision, "--", "tests").split()
                  if Path(p).name.startswith("test_") and p.endswith(".py")]  # pytest's test files only
    ids = []
    for path in sorted(then_files):
        now = ROOT / path
        if not now.exists():
            continue
        then = set(test_names(git("show", f"{revision}:{path}")))
        # in the file's order: a file's tests are written to run in it (module-scoped servers and worker pairs
        # start with the first test that asks); a test moved to another file since is left out
        ids += [f"{path}::{name}" for name in dict.fromkeys(test_names(now.read_text())) if name in then]
    print("\n".join(ids))
    print(f"{len(ids)} test functions of {revision} are in today's suite", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "8a71d69")
