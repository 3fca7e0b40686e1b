from mall_shared.migrate import run_env
from order.models import Base

run_env(Base.metadata, "order")
