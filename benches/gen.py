#!/usr/bin/env python3
"""Deterministic synthetic inputs for the benchmark.

csv ROWS PATH: a delegation CSV. Principals x 25 targets x 2 services; each
principal keeps one action (add, remove or replace, mixed across principals),
every third target has a port, every principal sets a protocol.
"""
import sys


def csv(rows: int, path: str) -> None:
    per_principal = 50  # 25 targets x 2 services
    principals = max(1, rows // per_principal)
    actions = ["add", "add", "remove", "replace"]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("principal,service,target,action,protocol,comment\n")
        n = 0
        for p in range(principals):
            action = actions[p % len(actions)]
            protocol = "any" if p % 2 == 0 else "kerberos"
            for t in range(25):
                host = f"srv{(p * 7 + t * 13) % 50000:05d}.contoso.com"
                if t % 3 == 0:
                    host += f":{1433 + t}"
                for service in ("cifs", "MSSQLSvc") if t % 2 else ("http", "vsms"):
                    if n >= rows:
                        return
                    f.write(f"host{p:05d}.contoso.com,{service},{host},{action},{protocol},batch {p // 100}\n")
                    n += 1


if __name__ == "__main__":
    kind, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "csv":
        csv(count, out)
    else:
        sys.exit(f"unknown input kind {kind}")
