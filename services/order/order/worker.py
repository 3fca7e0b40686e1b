"""The order worker: consumes its events, relays its outbox and cancels unpaid orders
(`order-worker`)."""
from mall_shared.consumer import run_worker

from .config import config
from .handlers import HANDLERS
from .models import Base
from .saga import cancel_expired_orders


def main() -> None:
    run_worker("order", Base.metadata, HANDLERS, periodic=[(config().timeout_check_interval, cancel_expired_orders)])


if __name__ == "__main__":
    main()
