import os

from django.core.wsgi import get_wsgi_application

from core.serving import serving_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()
# This process serves requests: in embedded mode, tasks run after the response (core.jobs); every view is
# imported now, not on the first request.
serving_start()
