#!/usr/bin/env python3
"""kcdplan benchmark: forest-sized plans against the I/O floor, in one run.

    python3 benches/bench.py [--sizes 10000,100000,1000000] [--runs 3]
    python3 benches/bench.py --against OLD_KCDPLAN [--runs 9]

Generates deterministic CSVs (benches/gen.py) under target/bench/, times
`kcdplan render` (all artifacts) and `kcdplan check`, and in the same run
the floor (examples/floor.rs): reading the same CSV with the csv crate and
writing the same number of bytes into as many files (for `check`, to
standard output), nothing else. Reports
wall time (median of --runs), rows per second, peak RSS and the ratio to
the floor, as a Markdown table, with the machine it ran on. Each command
and its floor run in turn, and the ratio is the median of the per-run
ratios: this machine's speed drifts from minute to minute.
With --against, compares another kcdplan binary (an older build) with this
one instead: both run in turn on the largest CSV (render, check, and check
with --current when the export is on), and the medians are set side by
side. Not part of the test suite.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")
KCDPLAN = os.path.join(ROOT, "target", "release", "kcdplan")
FLOOR = os.path.join(ROOT, "target", "release", "examples", "floor")
READ_EXPORT = os.path.join(ROOT, "target", "release", "examples", "export_read")


# The generated export gives some planned hosts unconstrained delegation
# (KCD001), a critical risk that stops a plan unless accepted; builds from
# before the risk rules have no such option.
ACCEPT = ["--accept-risk", "KCD001"]


def accepts_risks(kcdplan):
    help_text = subprocess.run([kcdplan, "check", "--help"], capture_output=True, text=True).stdout
    return "--accept-risk" in help_text


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, peak RSS in MiB, CPU seconds in user mode)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime


def paired(cmd, floors, runs, before=None):
    """Runs `cmd` and then its floor commands, `runs` times in turn, so that
    each ratio compares runs seconds apart (this machine's speed drifts
    over minutes). Returns (median wall, peak RSS, median floor wall,
    median of the per-run ratios)."""
    walls, rss, floor_walls, ratios = [], 0.0, [], []
    for _ in range(runs):
        if before:
            before()
        t, m, _ = run(cmd)
        floor = 0.0
        for f in floors:
            if before:
                before()
            floor += run(f)[0]
        walls.append(t)
        rss = max(rss, m)
        floor_walls.append(floor)
        ratios.append(t / floor)
    return (
        statistics.median(walls),
        rss,
        statistics.median(floor_walls),
        statistics.median(ratios),
    )


def against(old, new, runs, before=None):
    """Runs the old and the new command in turn, `runs` times each; returns
    per command (median wall, fastest wall, median user CPU, peak RSS)."""
    seen = {"old": [], "new": []}
    for _ in range(runs):
        for which, cmd in (("old", old), ("new", new)):
            if before:
                before()
            seen[which].append(run(cmd))
    return {
        which: (
            statistics.median(r[0] for r in rs),
            min(r[0] for r in rs),
            statistics.median(r[2] for r in rs),
            max(r[1] for r in rs),
        )
        for which, rs in seen.items()
    }


def compare(old_kcdplan, csv, export, runs):
    """The --against table: the old binary against this one."""
    out = os.path.join(WORK, "out-against")
    clean = lambda: shutil.rmtree(out, ignore_errors=True)
    jobs = [("render", ["render", csv, "--out", out, "--force"], clean), ("check", ["check", csv], None)]
    if export:
        jobs.append(("check --current", ["check", csv, "--current", export], None))
    accept = lambda binary, cmd: cmd + ACCEPT if "--current" in cmd and accepts_risks(binary) else cmd
    print(f"Machine: {machine()}\n")
    print(f"{old_kcdplan} (old) against {KCDPLAN} (new), {os.path.basename(csv)}, {runs} runs each, in turn:\n")
    print("| command | median wall (s) | fastest (s) | median CPU, user (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, cmd, before in jobs:
        r = against([old_kcdplan] + accept(old_kcdplan, cmd), [KCDPLAN] + accept(KCDPLAN, cmd), runs, before)
        o, n = r["old"], r["new"]
        print(
            f"| {name} | {o[0]:.2f} -> {n[0]:.2f} | {o[1]:.2f} -> {n[1]:.2f} | "
            f"{o[2]:.2f} -> {n[2]:.2f} | {o[3]:.0f} -> {n[3]:.0f} |"
        )
    clean()


def stdout_bytes(cmd):
    """The number of bytes `cmd` writes to standard output, counted as they
    come: held whole, they would raise this script's peak memory, which
    Linux reports as the peak of every command it starts after."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while chunk := proc.stdout.read(1 << 16):
        n += len(chunk)
    if proc.wait() != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return n


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, {rustc}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--export-accounts", type=int, default=500000, help="0 skips the export benchmark")
    ap.add_argument("--against", metavar="OLD_KCDPLAN", help="compare this kcdplan binary with the current build")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    for example in ("floor", "export_read"):
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--example", example], cwd=ROOT, check=True)
    os.makedirs(WORK, exist_ok=True)

    if args.against:
        n = sizes[-1]
        csv = os.path.join(WORK, f"rows-{n}.csv")
        if not os.path.exists(csv):
            subprocess.run([sys.executable, os.path.join(ROOT, "benches", "gen.py"), "csv", str(n), csv], check=True)
        export = None
        if args.export_accounts:
            export = os.path.join(WORK, f"export-{args.export_accounts}.ldif")
            if not os.path.exists(export):
                subprocess.run(
                    [sys.executable, os.path.join(ROOT, "benches", "gen.py"), "export", str(args.export_accounts), export],
                    check=True,
                )
        compare(os.path.abspath(args.against), csv, export, args.runs)
        return

    rows = []
    for n in sizes:
        csv = os.path.join(WORK, f"rows-{n}.csv")
        if not os.path.exists(csv):
            subprocess.run([sys.executable, os.path.join(ROOT, "benches", "gen.py"), "csv", str(n), csv], check=True)
        out = os.path.join(WORK, f"out-{n}")
        floor_out = os.path.join(WORK, f"floor-{n}")
        clean = lambda: [shutil.rmtree(p, ignore_errors=True) for p in (out, floor_out)]

        render = [KCDPLAN, "render", csv, "--out", out, "--force"]
        clean()
        run(render)  # the output's size, for the floor
        out_bytes = dir_bytes(out)
        rows.append((n, "render", paired(render, [[FLOOR, csv, floor_out, str(out_bytes), "5"]], args.runs, clean), out_bytes))
        check = [KCDPLAN, "check", csv]
        listing = stdout_bytes(check)
        rows.append((n, "check", paired(check, [[FLOOR, csv, "-", str(listing), "1"]], args.runs), listing))
        clean()

    export_rows = []
    if args.export_accounts:
        n = args.export_accounts
        export = os.path.join(WORK, f"export-{n}.ldif")
        if not os.path.exists(export):
            subprocess.run([sys.executable, os.path.join(ROOT, "benches", "gen.py"), "export", str(n), export], check=True)
        csv = os.path.join(WORK, f"rows-{sizes[-1]}.csv")
        out = os.path.join(WORK, "out-current")
        clean = lambda: shutil.rmtree(out, ignore_errors=True)
        render = [KCDPLAN, "render", csv, "--current", export, "--out", out, "--force"] + ACCEPT
        floor_out = os.path.join(WORK, "floor-current")
        clean = lambda: [shutil.rmtree(p, ignore_errors=True) for p in (out, floor_out)]
        clean()
        run(render)  # the output's size, for the floor
        out_bytes = dir_bytes(out)
        lines = [FLOOR, "lines", export]
        check_current = [KCDPLAN, "check", csv, "--current", export] + ACCEPT
        size = os.path.getsize(export) / 2**20
        # Floors for --current: the export's lines plus the CSV (and, for
        # render, writing the same output bytes).
        export_rows = [
            ("export reader alone (examples/export_read)", paired([READ_EXPORT, export], [lines], args.runs)),
            (f"audit ({n:,}-account export)", paired([KCDPLAN, "audit", export], [lines], args.runs)),
            (
                f"check {sizes[-1]:,} rows --current",
                paired(check_current, [lines, [FLOOR, csv, "-", str(stdout_bytes(check_current)), "1"]], args.runs),
            ),
            (
                f"render {sizes[-1]:,} rows --current",
                paired(render, [lines, [FLOOR, csv, floor_out, str(out_bytes), "6"]], args.runs, clean),
            ),
        ]
        clean()

    print(f"Machine: {machine()}\n")
    print("| rows | command | wall (s) | rows/s | peak RSS (MiB) | floor (s) | ratio to floor | output (MiB) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n, cmd, (t, m, floor, ratio), out_bytes in rows:
        print(
            f"| {n:,} | {cmd} | {t:.2f} | {n / t:,.0f} | {m:.0f} | {floor:.2f} | {ratio:.1f}x | "
            f"{out_bytes / 2**20:.0f} |"
        )
    if export_rows:
        print(
            f"\nExport: {args.export_accounts:,} accounts, {size:.0f} MiB. Floor: reading its bytes and"
            " splitting its lines (reader, audit); plus reading the CSV, and writing the same output bytes"
            " (render, and check's listing).\n"
        )
        print("| command | wall (s) | peak RSS (MiB) | floor (s) | ratio to floor |")
        print("|---|---:|---:|---:|---:|")
        for name, (t, m, floor, ratio) in export_rows:
            print(f"| {name} | {t:.2f} | {m:.0f} | {floor:.2f} | {ratio:.1f}x |")


if __name__ == "__main__":
    main()
