"""WSGI entry point (`addon.wsgi:app`) for the Procfile's granian web processes, or any WSGI server;
settings come from the environment. With in-process jobs (the embedded default) the process keeps its
own clock too."""

from addon import create_app
from addon.jobs.clock import start_embedded_clock

app = create_app()
start_embedded_clock(app)
