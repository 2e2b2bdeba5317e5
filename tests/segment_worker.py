"""A separate process drawing ids with its own allocator (used by tests/test_segment_ids.py).

    python -m tests.segment_worker URL TAG THREADS IDS_PER_THREAD MAX_STEP OUTFILE

Prints "ready", waits for a line on stdin, then each thread draws its ids in batches of 1..5 and the
process writes one line per thread (space-separated ids) to OUTFILE and prints "done". With THREADS 0
it is the restart probe: draws IDS_PER_THREAD ids, prints them and its buffer state as JSON, then
blocks on stdin holding its buffers until it is killed.
"""

from __future__ import annotations

import json
import sys
import threading

from pcloud.segments.allocator import Allocator


def main() -> None:
    url, tag, threads, per_thread, max_step, outfile = sys.argv[1:7]
    alloc = Allocator(url, max_step=int(max_step), wait_seconds=30, db_timeout_seconds=20)
    n_threads, n_ids = int(threads), int(per_thread)
    print("ready", flush=True)
    sys.stdin.readline()
    if n_threads == 0:
        ids = alloc.take(tag, n_ids)
        for _ in range(200):  # let the preload of the next range land, so the kill loses two ranges
            state = alloc.state(tag)
            if state and state["next_ready"]:
                break
            threading.Event().wait(0.01)
        print(json.dumps({"ids": ids, "state": alloc.state(tag)}, default=str), flush=True)
        sys.stdin.readline()
        return
    results: list[list[int]] = [[] for _ in range(n_threads)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            got = results[i]
            k = 0
            while len(got) < n_ids:
                got.extend(alloc.take(tag, min(1 + k % 5, n_ids - len(got))))
                k += 1
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        print(f"error {errors[0]!r}", flush=True)
        sys.exit(1)
    with open(outfile, "w") as fh:
        for got in results:
            fh.write(" ".join(map(str, got)) + "\n")
    print("done", flush=True)


if __name__ == "__main__":
    main()
