#!/usr/bin/env python3
"""Inputs made to be slow, at growing sizes: the time and peak memory of
`kcdplan check` must grow linearly with the input.

    python3 benches/slow_inputs.py [--sizes 10000,100000,1000000] [--kcdplan BIN]

Cases: distinct comments on one principal; targets the export does not
know (--current); distinct service classes near 1 KiB; and, sized in
bytes, leading blank lines and an unknown header cell. Prints a Markdown
table. Not part of the test suite.
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench", "slow")


def run(cmd):
    """Wall time and peak RSS (MiB) of `cmd`, measured by /usr/bin/time:
    a child of this script would report this script's own peak too."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ).stderr.strip().splitlines()[-1]
    wall, rss = out.split()
    return float(wall), int(rss) / 1024


def write(name, parts):
    """Writes the strings `parts` yields to WORK/name, as they come."""
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        for part in parts:
            f.write(part)
    return path


def cases(n):
    rows = lambda head, row: [head, *(row(i) for i in range(n))]
    yield "distinct comments, one principal", [write(
        f"comments-{n}.csv",
        rows("principal,service,target,comment\n", lambda i: f"p.contoso.com,cifs,t{i},comment {i}\n"),
    )]
    export = write("export-small.ldif", ["dn: CN=P,CN=Computers,DC=contoso,DC=com\nsAMAccountName: P$\nuserAccountControl: 4096\ndNSHostName: p.contoso.com\n"])
    yield "targets missing from the export (--current)", [write(
        f"missing-{n}.csv", rows("principal,service,target\n", lambda i: f"p.contoso.com,cifs,t{i}\n"),
    ), "--current", export]
    yield "distinct service classes near 1 KiB", [write(
        f"classes-{n}.csv",
        rows("principal,service,target\n", lambda i: f"p.contoso.com,{'s' * 1000}{i},t\n"),
    )]
    yield f"{n * 100:,} leading blank lines", [write(
        f"blank-{n}.csv", [*("\n" * 100 for _ in range(n)), "principal,service,target\np.contoso.com,cifs,t\n"]
    )]
    yield f"an unknown header cell of {n * 8:,} bytes", [write(
        f"header-{n}.csv", ["principal,service,target,", *("x" * 8 for _ in range(n)), "\np.contoso.com,cifs,t,\n"]
    )]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--kcdplan", default=os.path.join(ROOT, "target", "release", "kcdplan"))
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    print("| input | size | wall (s) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for n in [int(s) for s in args.sizes.split(",")]:
        for name, csv_args in cases(n):
            t, rss = run([args.kcdplan, "check", *csv_args])
            print(f"| {name} | {n:,} | {t:.2f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
