"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""
import gc

from coenforce import create_app

app = create_app()
# What start-up built (modules, the app, table and schema definitions) lives as
# long as the process and is most of its heap: frozen, the collector stops
# walking it again in every full collection.
gc.collect()
gc.freeze()
# A request allocates thousands of short-lived objects (a list page makes a few
# per row): collecting the youngest generation every 5,000 allocations rather
# than every 700 walks it a seventh as often, for a few hundred kB at most.
gc.set_threshold(5000, 10, 10)
