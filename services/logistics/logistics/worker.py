"""The logistics worker: consumes order's events (and payment's refunds of returns), relays its
outbox and runs the automatic confirmation of receipt (`logistics-worker`)."""
from collections.abc import Callable

from sqlalchemy.orm import Session

from mall_shared.consumer import Periodic, run_worker

from . import services
from .config import LogisticsConfig
from .handlers import HANDLERS
from .models import Base


def periodic_jobs(cfg: LogisticsConfig) -> list[Periodic]:
    def auto_confirm_receipts(session: Session) -> None:
        services.auto_confirm_receipts(session, cfg.auto_confirm_after)

    jobs: list[tuple[float, Callable[[Session], None]]] = [(cfg.auto_confirm_interval, auto_confirm_receipts)]
    return jobs


def main() -> None:
    run_worker("logistics", Base.metadata, HANDLERS, periodic=periodic_jobs(LogisticsConfig.load()))


if __name__ == "__main__":
    main()
