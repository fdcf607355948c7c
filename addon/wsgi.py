"""WSGI entry point (`addon.wsgi:app`) for the Procfile's granian web processes, or any WSGI server;
settings come from the environment. With in-process jobs (the embedded default) the process keeps its
own clock too."""

import gc

from addon import create_app
from addon.jobs.clock import start_embedded_clock

app = create_app()
start_embedded_clock(app)
# What start-up built (modules, templates, the app) lives as long as the process: frozen, the collector stops
# walking it. A full collection then walks only what views made, so it no longer stops every view in the
# process for 70-110 ms, as it did once ~200,000 objects were tracked (bench/RESULTS.md).
gc.collect()
gc.freeze()
