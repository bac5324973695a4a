from shared.db.migrations import run_env
from workflow_service.db.models import Base

run_env(Base.metadata)
