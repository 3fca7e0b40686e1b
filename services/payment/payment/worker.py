"""The payment worker: consumes order and stock events and relays its outbox (`payment-worker`)."""
from mall_shared.config import Settings
from mall_shared.consumer import run_worker
from mall_shared.db import Database

from .config import config
from .handlers import HANDLERS
from .models import Base
from .refunds import refund_interval, settling_job


def main() -> None:
    settings = config()
    if settings.sandbox:
        from . import sandbox  # the sandbox's keys exist only in sandbox mode

        sandbox.ensure_keys(settings)  # the worker may start before the web process
    db = Database("payment", Settings.load("payment").database_url, Base.metadata)
    run_worker("payment", Base.metadata, HANDLERS, periodic=[(refund_interval(), settling_job(db, settings))])


if __name__ == "__main__":
    main()
