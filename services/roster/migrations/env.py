from services.roster import login_models  # noqa: F401 - its tables belong to the roster metadata
from services.roster.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
