"""WSGI entry point for gunicorn (`addon.wsgi:app`): settings come from the environment."""
from addon import create_app

app = create_app()
