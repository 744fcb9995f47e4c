"""Benchmark: the clinic's server CPU per request, two builds side by side.

The load benchmark (``clinic_load.py``) depends on how fast the host is at the time, and on
this shared machine that moves by half from one run to the next. This script compares two
builds of the clinic under the same conditions. It starts one server from each source tree
(``--old`` and ``--new``, each the ``src`` folder of a checkout), each on its own copy of a
SQLite database that ``clinic_load.py --keep`` built. One client then sends every request
to both servers, alternating which goes first. A request's cost is the CPU time its server
process spent on it (Linux /proc; one process each, no ``--workers``), so host speed affects
both builds alike. Servers, sign-in and CPU accounting are ``clinic_load.py``'s.

Usage:
    git worktree add /tmp/old <commit>
    python benchmarks/clinic_ab.py --old /tmp/old/src --new src \\
        --database /tmp/equipoise-clinic-load-20261127.sqlite3 [--requests 200]
        [--ops submit,page,dashboard] [--seed 20261127]

It prints server CPU ms per request and the client's median latency for each build, and the
new/old ratios. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx2 as httpx
from clinic_load import cpu_seconds, served, sign_in
from sqlalchemy import create_engine, text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", type=Path, required=True, help="the src folder of the old build")
    ap.add_argument("--new", type=Path, required=True, help="the src folder of the new build")
    ap.add_argument("--database", type=Path, required=True,
                    help="a SQLite database built by clinic_load.py --keep")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--ops", default="submit,page,dashboard")
    ap.add_argument("--seed", type=int, default=20261127)
    args = ap.parse_args(argv)
    for src in (args.old, args.new):
        if not (src / "equipoise" / "clinic").is_dir():
            raise SystemExit(f"{src}: not a src folder holding equipoise/clinic")
    if not args.database.is_file():
        raise SystemExit(f"{args.database}: no such database (clinic_load.py --keep builds one)")
    ops = [o.strip() for o in args.ops.split(",")]
    unknown = set(ops) - {"submit", "page", "dashboard"}
    if unknown:
        raise SystemExit(f"--ops: unknown operation(s) {sorted(unknown)}")
    with tempfile.TemporaryDirectory(prefix="clinic-ab-") as tmp, ExitStack() as stack:
        servers: list[tuple[str, int]] = []
        for name, src in (("old", args.old), ("new", args.new)):
            copy = Path(tmp) / f"{name}.sqlite3"
            shutil.copy(args.database, copy)
            wal = Path(f"{args.database}-wal")
            if wal.exists():
                shutil.copy(wal, Path(f"{copy}-wal"))
            servers.append(stack.enter_context(served(
                f"sqlite:///{copy}", Path(tmp) / f"{name}.log", 1,
                env={"PYTHONPATH": str(src.resolve())})))
        engine = create_engine(f"sqlite:///{Path(tmp) / 'old.sqlite3'}")
        with engine.connect() as conn:
            patients = list(conn.scalars(text("SELECT id FROM patients ORDER BY id")))
            user = conn.scalar(text("SELECT username FROM users WHERE role = 'clinician' "
                                    "ORDER BY username"))
        engine.dispose()
        clients = []
        for base, _ in servers:
            login = sign_in(base, [user], f"bench-load-{args.seed}-synthetic", 1)[0]
            clients.append(stack.enter_context(httpx.Client(
                base_url=base, timeout=60, headers={
                    "Cookie": f"equipoise_session={login.cookie}",
                    "X-CSRF-Token": login.csrf})))
        rng = random.Random(args.seed)

        def request(k: int, op: str, pid: str, answers: list[int]) -> int:
            c = clients[k]
            if op == "submit":
                return c.post(f"/api/patients/{pid}/questionnaires",
                              json={"instrument": "gad7", "answers": answers}).status_code
            path = f"/patients/{pid}" if op == "page" else "/api/outcomes"
            return c.get(path).status_code

        print(f"{args.requests} requests of each operation to each build, alternating which "
              "goes first\n")
        print("| operation | old CPU ms/request | new CPU ms/request | new/old | "
              "old p50 ms | new p50 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")

        def draw() -> tuple[str, list[int]]:
            return rng.choice(patients), [rng.randint(0, 3) for _ in range(7)]

        for op in ops:
            for _ in range(10):                                   # warm both up
                pid, answers = draw()
                for k in (0, 1):
                    request(k, op, pid, answers)
            cpu = [0.0, 0.0]
            latency: list[list[float]] = [[], []]
            for i in range(args.requests):
                pid, answers = draw()
                for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                    server_pid = servers[k][1]
                    c0, t0 = cpu_seconds(server_pid), time.perf_counter()
                    status = request(k, op, pid, answers)
                    latency[k].append(1000 * (time.perf_counter() - t0))
                    cpu[k] += cpu_seconds(server_pid) - c0
                    if status >= 300:
                        raise SystemExit(f"{op}: {('old', 'new')[k]} answered {status}")
            ms = [1000 * x / args.requests for x in cpu]
            p50 = [statistics.median(x) for x in latency]
            print(f"| {op} | {ms[0]:.2f} | {ms[1]:.2f} | {ms[1] / ms[0]:.2f} | "
                  f"{p50[0]:.2f} | {p50[1]:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
