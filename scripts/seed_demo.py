"""Seed the demo school of `make run`: the official EDEXML example and a few licences.

ISBNs in demo/licences.json are 12 digits; the check digit is computed here so that the
demo data always passes the real ISBN-13 validation.
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SCHOOL = "99ZZ00"
EXAMPLE = ROOT / "shared/standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml"


def isbn13(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def main(url: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/koppel"), "roster", "import", str(EXAMPLE),
                    "--name", "Demoschool De Regenboog"], check=True)
    licence_ids = {}
    for licence in json.loads((ROOT / "scripts/demo/licences.json").read_text()):
        licence["isbn"] = isbn13(licence["isbn"])
        r = requests.post(f"{url}/api/v1/schools/{SCHOOL}/licences", json=licence, timeout=10)
        r.raise_for_status()
        licence_ids[licence["contract_number"]] = r.json()["id"]
    # the group copy reaches licensing through roster.updated: retry briefly until it has
    for _ in range(50):
        r = requests.post(f"{url}/api/v1/schools/{SCHOOL}/licences/{licence_ids['0040207748000010']}/groups",
                          json={"group_key": "GRP4A"}, timeout=10)
        if r.status_code == 201:
            break
        time.sleep(0.2)
    else:
        sys.exit(f"demo coupling failed: {r.status_code} {r.text}")
    print(f"seeded demo school {SCHOOL} with {len(licence_ids)} licences")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000")
