"""Framework integrations of sspr: ``sspr.contrib.fastapi`` (an ``APIRouter`` with the reset flow as a JSON
API and server-rendered pages). Each module imports its framework, so install that framework to use it."""
