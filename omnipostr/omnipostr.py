"""Assembles the OmniPostr app: pages, HTTP routes, middleware and the job runner."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from omnipostr import csp, observe
from omnipostr.accounts import pages as account_pages
from omnipostr.accounts import routes as account_routes
from omnipostr.accounts import session_header, settings_pages
from omnipostr.api import page as api_page
from omnipostr.api import routes as api_routes
from omnipostr.billing import page as billing_page
from omnipostr.billing import routes as billing_routes
from omnipostr.http_security import security_headers, upload_limit
from omnipostr.jobs import registry as job_registry
from omnipostr.jobs import runner as job_runner
from omnipostr.library import page as library_page
from omnipostr.library import routes as library_routes
from omnipostr.notify import devmail
from omnipostr.privacy import center as privacy_center
from omnipostr.privacy import contact as privacy_contact
from omnipostr.privacy import page as privacy_page
from omnipostr.privacy import requests_page as privacy_requests
from omnipostr.privacy import routes as privacy_routes
from omnipostr.repurpose import page as composer_page
from omnipostr.repurpose import voices
from omnipostr.repurpose import worker as generation_worker
from omnipostr.settings import get_settings
from omnipostr.ui import landing
from omnipostr.ui.layout import NavItem, register_nav

observe.configure_logging(get_settings())
job_registry.discover()
register_nav(NavItem("Library", "/library", "library"), before="Settings")

api = Starlette(routes=[
    *account_routes.routes, *api_routes.routes, *billing_routes.routes, *library_routes.routes, *privacy_routes.routes, *observe.routes, *devmail.routes, *csp.routes,
])

app = rx.App(
    stylesheets=["/omnipostr.css"],
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    # innermost first: the session header is rewritten before Reflex's event endpoint sees
    # the connection; the request log wraps everything
    api_transformer=[api, session_header.middleware, upload_limit, security_headers, observe.middleware],
)
app.register_lifespan_task(job_runner.lifespan_task)
app.register_lifespan_task(devmail.lifespan_task)
app.register_lifespan_task(generation_worker.web_cpu_lifespan)
app.register_lifespan_task(generation_worker.lifespan_task)

landing.add_pages(app)
privacy_page.add_pages(app)
privacy_center.add_pages(app)
privacy_contact.add_pages(app)
privacy_requests.add_pages(app)
account_pages.add_pages(app)
settings_pages.add_pages(app)
composer_page.add_pages(app)
library_page.add_pages(app)
billing_page.add_pages(app)
api_page.add_pages(app)
voices.add_pages(app)
