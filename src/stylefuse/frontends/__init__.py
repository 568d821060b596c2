"""Front ends over :mod:`stylefuse.api` and :mod:`stylefuse.hub`: export, video, the web app."""
