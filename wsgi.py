"""gunicorn entry point: `gunicorn wsgi:app`."""

from pcloud import create_app

app = create_app()
