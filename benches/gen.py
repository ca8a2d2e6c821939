#!/usr/bin/env python3
"""Deterministic synthetic inputs for the benchmark.

export ACCOUNTS PATH: an ldbsearch-style LDIF export with existing
delegations: every 10th account constrained (4 values), every 20th with
protocol transition, every 50th with resource-based delegation, every
1000th unconstrained. The last 50,000 accounts (a tenth, if fewer) are the
servers srv{j:05d} that the CSV delegates to; the others are host{i:05d},
matching the CSV principals.

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


def export(accounts: int, path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        servers = min(50000, accounts // 10)
        for i in range(accounts):
            first_server = accounts - servers
            name = f"host{i:05d}" if i < first_server else f"srv{i - first_server:05d}"
            uac = 4096
            if i % 20 == 0:
                uac |= 0x1000000
            if i % 1000 == 999:
                uac |= 0x80000
            f.write(f"# record {i + 1}\n")
            f.write(f"dn: CN={name.upper()},CN=Computers,DC=contoso,DC=com\n")
            for oc in ("top", "person", "organizationalPerson", "user", "computer"):
                f.write(f"objectClass: {oc}\n")
            f.write(f"userAccountControl: {uac}\n")
            f.write(f"objectSid: S-1-5-21-1111111111-2222222222-3333333333-{1100 + i}\n")
            f.write(f"sAMAccountName: {name.upper()}$\n")
            f.write(f"dNSHostName: {name}.contoso.com\n")
            for spn in (f"HOST/{name}", f"HOST/{name}.contoso.com", f"RestrictedKrbHost/{name}.contoso.com"):
                f.write(f"servicePrincipalName: {spn}\n")
            if i % 10 == 0:
                for t in range(4):
                    f.write(f"msDS-AllowedToDelegateTo: cifs/srv{(i + t) % 50000:05d}.contoso.com\n")
            if i % 50 == 0:
                f.write(
                    "msDS-AllowedToActOnBehalfOfOtherIdentity: O:BAD:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;"
                    f"S-1-5-21-1111111111-2222222222-3333333333-{1100 + (i + 1) % accounts})\n"
                )
            f.write("\n")


if __name__ == "__main__":
    kind, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "csv":
        csv(count, out)
    elif kind == "export":
        export(count, out)
    else:
        sys.exit(f"unknown input kind {kind}")
