"""The catalog worker: consumes its events and relays its outbox (`catalog-worker`)."""
from mall_shared.consumer import run_worker

from .handlers import HANDLERS
from .models import Base


def main() -> None:
    run_worker("catalog", Base.metadata, HANDLERS)


if __name__ == "__main__":
    main()
