"""The crm worker: consumes order's and payment's events and relays its outbox (`crm-worker`)."""
from mall_shared.consumer import run_worker

from . import revocation
from .handlers import HANDLERS
from .models import Base


def main() -> None:
    run_worker("crm", Base.metadata, HANDLERS, periodic=[(300, revocation.forget_expired)])


if __name__ == "__main__":
    main()
