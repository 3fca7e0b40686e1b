"""The payment worker: consumes order and stock events and relays its outbox (`payment-worker`)."""
from mall_shared.consumer import run_worker

from .config import config
from .handlers import HANDLERS
from .models import Base


def main() -> None:
    settings = config()
    if settings.sandbox:
        from . import sandbox  # the sandbox's keys exist only in sandbox mode

        sandbox.ensure_keys(settings)  # the worker may start before the web process
    run_worker("payment", Base.metadata, HANDLERS)


if __name__ == "__main__":
    main()
