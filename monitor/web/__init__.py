"""The dashboard and JSON API: pages for phones, captcha assistance, served by `rdv-monitor run` itself."""

from monitor.web.app import create_app
from monitor.web.context import CatalogHolder, ServiceControl, WebContext
from monitor.web.server import WebServer, check_exposure

__all__ = ["CatalogHolder", "ServiceControl", "WebContext", "WebServer", "check_exposure", "create_app"]
