"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from coenforce import create_app

app = create_app()
# What start-up built (modules, the app, table and schema definitions) lives as
# long as the process and is most of its heap: frozen, the collector stops
# walking it again in every full collection.
gc.collect()
gc.freeze()
