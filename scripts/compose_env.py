"""Write the secrets docker-compose.yml requires into .env (`make compose-env`), once.

Each is random (URL-safe, so it can sit inside a database or broker URL) and kept if .env
already has it, so running this again never changes a password a running deployment uses.
The admin password is printed once, here; it is not shown anywhere else.
"""
from __future__ import annotations

import argparse
import secrets
from pathlib import Path

SERVICES = ("catalog", "order", "payment", "crm", "logistics", "reports")
SECRETS = ("MALL_ADMIN_PASSWORD", "MALL_POSTGRES_PASSWORD", "MALL_RABBITMQ_PASSWORD",
           *(f"MALL_BUS_PASSWORD_{s.upper()}" for s in SERVICES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=Path(".env"))
    args = parser.parse_args()
    lines = args.file.read_text().splitlines() if args.file.exists() else []
    present = {line.split("=", 1)[0].strip() for line in lines if "=" in line and not line.startswith("#")}
    added = {name: secrets.token_urlsafe(24) for name in SECRETS if name not in present}
    if added:
        args.file.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in added.items())]) + "\n")
        args.file.chmod(0o600)
    print(f"{args.file}: {len(added)} secret(s) added, {len(SECRETS) - len(added)} kept")
    if "MALL_ADMIN_PASSWORD" in added:
        print(f"admin login: admin@mall.local / {added['MALL_ADMIN_PASSWORD']}  (shown once; it is in {args.file})")


if __name__ == "__main__":
    main()
