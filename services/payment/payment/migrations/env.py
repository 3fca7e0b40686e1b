from mall_shared.migrate import run_env
from payment.models import Base

run_env(Base.metadata, "payment")
