"""Seed the demo of `make run`: two schools, their licences, and two staff accounts; print how to log in.

The schools are scripts/demo/demoschool.xml (the EDEXML example's school 99ZZ00, with staff e-mail
addresses added, see scripts/demo/README.md) and scripts/demo/tweede-school.xml (99YY00), imported with
the operator CLI. Licences are registered over the licensing RPC (publishers' order systems do that;
the admin API has no route for it). Accounts get their passwords through `koppel accounts set-password`.
Running it again changes nothing.

ISBNs in demo/licences.json are 12 digits; the check digit is computed here so that the demo data
always passes the real ISBN-13 validation.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KOPPEL = str(ROOT / ".venv/bin/koppel")
SCHOOLS = (("99ZZ00", "demoschool.xml", "Demoschool De Regenboog"),
           ("99YY00", "tweede-school.xml", "Demoschool De Zonnewijzer"))
ACCOUNTS = (("e.meeuwsen@regenboog.example", "regenboog-ict-2026",
             "ICT-coördinator van beide demoscholen (Selecteer school)"),
            ("j.vanbemmel@regenboog.example", "regenboog-lk-2026", "leerkracht van 4A en 4B, geen Beheer"))


def isbn13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def licences(school_id: str) -> list[dict]:
    items = json.loads((ROOT / "scripts/demo/licences.json").read_text())
    for item in items:
        item["isbn"] = isbn13(item["isbn"])
        item["school_id"] = school_id
        if school_id != SCHOOLS[0][0]:  # contract numbers are unique across schools
            item["contract_number"] = "0041" + item["contract_number"][4:]
    return items


def main(url: str) -> None:
    from nameko.standalone.rpc import ClusterRpcProxy

    for _, file, name in SCHOOLS:
        subprocess.run([KOPPEL, "roster", "import", str(ROOT / "scripts/demo" / file), "--name", name], check=True,
                       stdout=subprocess.DEVNULL)
    config = {"AMQP_URI": os.environ.get("AMQP_URI", "amqp://guest:guest@localhost:5672/"), "serializer": "json"}
    with ClusterRpcProxy(config, timeout=20) as rpc:
        ids = {}
        for school_id, _, _ in SCHOOLS:
            for licence in licences(school_id):
                ids[licence["contract_number"]] = rpc.licensing.register_licence(licence)["id"]
        # the group copy reaches licensing through roster.updated: retry briefly until it has
        for _ in range(50):
            if any(g["key"] == "GRP4A" for g in rpc.licensing.known_groups("99ZZ00")):
                # three group licences of 4A fill the demo teacher's start page
                for contract in ("0040207748000010", "0040300000000011", "0040300000000012"):
                    rpc.licensing.couple_group("99ZZ00", ids[contract], "GRP4A", "demo")
                break
            time.sleep(0.2)
        else:
            sys.exit("demo coupling failed: licensing did not receive the demo roster")
    for email, password, _ in ACCOUNTS:
        done = subprocess.run([KOPPEL, "accounts", "set-password", email], input=f"{password}\n{password}\n",
                              text=True, capture_output=True)
        if done.returncode != 0:
            sys.exit(f"setting the demo password of {email} failed: {done.stderr}")
    print(f"seeded demo schools {', '.join(s for s, _, _ in SCHOOLS)} with {len(ids)} licences")
    print(f"\nlog in at {url}/ with:")
    for email, password, role in ACCOUNTS:
        print(f"  {email:34} {password:20} {role}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000")
