from crm.models import Base
from mall_shared.migrate import run_env

run_env(Base.metadata, "crm")
