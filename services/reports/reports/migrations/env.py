from mall_shared.migrate import run_env
from reports.models import Base

run_env(Base.metadata, "reports")
