"""WSGI entry point (`addon.wsgi:app`) for the Procfile's granian web processes, or any WSGI server;
settings come from the environment."""

from addon import create_app

app = create_app()
