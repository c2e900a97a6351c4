import os

from django.core.asgi import get_asgi_application

from core.jobs import background_jobs_enable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_asgi_application()
# This process serves requests: in embedded mode, tasks run after the response (core.jobs).
background_jobs_enable()
