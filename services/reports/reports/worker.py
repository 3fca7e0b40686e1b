"""The reports worker: counts every event it subscribes to into the figures (`reports-worker`).
Several may run at once (competing consumers): figures are keyed upserts and facts are locked."""
from mall_shared.consumer import run_worker

from .handlers import HANDLERS
from .models import Base


def main() -> None:
    run_worker("reports", Base.metadata, HANDLERS)


if __name__ == "__main__":
    main()
