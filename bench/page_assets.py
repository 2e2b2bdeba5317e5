"""What a browser spends on the next page: headless Chromium signed in, going from page to page of the console.

Per page: how many requests reach the server (the page itself, and each stylesheet, script and icon file it
revalidates), the wall time of the navigation until `load`, and the CPU time it cost: utime + stime from /proc
of every process below the bench (Chromium, the Playwright driver, both servers; the idle server adds ~0).
`--compare DIR` serves another PCloud checkout (e.g. a git worktree of an older commit) on the same database, in
alternating rounds, as the baseline.

    .venv/bin/python -m bench.page_assets [--compare DIR] [--rounds 3] [--pages 30]

Needs Debian's chromium-headless-shell (or chromium) and Playwright.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import ADMIN_PASSWORD, ADMIN_PHONE, Server, prepare_database

PAGES = ("/", "/system/user/", "/system/role/")
CHROMIUM = next((path for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium") if os.path.exists(path)),
                "/usr/bin/chromium")


def _tree_cpu_seconds(root: int) -> float:
    """utime + stime of `root` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
        todo += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def browse(browser: Any, server: Server, pages: int) -> dict[str, float]:
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.port}")
    tab = context.new_page()
    tab.goto("/login")
    tab.locator("#pw-phone").fill(ADMIN_PHONE)
    tab.locator("#pw-password").fill(ADMIN_PASSWORD)
    tab.locator("#login-password").click()
    tab.wait_for_url("**/")
    devtools = context.new_cdp_session(tab)
    devtools.send("Network.enable")
    sent: set[str] = set()
    cached: set[str] = set()
    devtools.on("Network.requestWillBeSent", lambda event: sent.add(event["requestId"]))
    devtools.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    devtools.on("Network.responseReceived",
                lambda event: cached.add(event["requestId"]) if event["response"].get("fromDiskCache") else None)
    for path in PAGES:  # warm: the first visit fills the cache either way
        tab.goto(path)
    sent.clear()
    cached.clear()
    walls = []
    cpu_before = _tree_cpu_seconds(os.getpid())
    for i in range(pages):
        started = time.perf_counter()
        tab.goto(PAGES[i % len(PAGES)])
        tab.wait_for_load_state("load")
        walls.append(time.perf_counter() - started)
    cpu = _tree_cpu_seconds(os.getpid()) - cpu_before
    context.close()
    return {"requests": len(sent - cached) / pages, "wall_ms": statistics.median(walls) * 1000,
            "cpu_ms": cpu / pages * 1000}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", help="another PCloud checkout, served on the same database as the baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    url, instance_dir = prepare_database(None)
    servers = {"ours": Server("wsgi:app", url, instance_dir)}
    if args.compare:
        servers["compared"] = Server("wsgi:app", url, instance_dir,
                                     GUNICORN_CMD_ARGS=f"--chdir {Path(args.compare).resolve()}")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            for _ in range(args.rounds):
                for name, server in servers.items():
                    results[name].append(browse(browser, server, args.pages))
            browser.close()
    finally:
        for server in servers.values():
            server.stop()
    print(f"next page in headless Chromium ({', '.join(PAGES)} in turn; {args.rounds} rounds x {args.pages} "
          "pages; medians of the rounds)")
    print(f"{'':10} {'to server/page':>15} {'wall ms':>9} {'CPU ms/page':>12}")
    for name, rounds in results.items():
        row = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"{name:10} {row['requests']:15.1f} {row['wall_ms']:9.1f} {row['cpu_ms']:12.1f}")


if __name__ == "__main__":
    main()
