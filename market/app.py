"""The composition root: the only place that wires every package into one Litestar app."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from market import db, home, identity, jobs
from market.api_contract import bounds_guard, describe_before_serving
from market.config import Settings
from market.i18n import current_locale, gettext, ngettext, pgettext
from market.money import Money
from market.web import EXCEPTION_HANDLERS, PUBLIC, AuthMiddleware, access_guard

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = Path(__file__).resolve().parent / "static"

# Modules whose @job functions must be registered before a broker is bound (composition root).
TASK_MODULES = ["market.notifications", "market.documents", "listings.tasks", "operators.tasks", "contracts.tasks",
                "billing.tasks", "billing.payments.tasks", "billing.orders.tasks", "billing.usage"]


def _routers() -> list:
    from billing.controllers import router as billing_router
    from billing.disbursements.controllers import router as disbursements_router
    from billing.invoices.controllers import router as invoices_router
    from billing.orders.controllers import router as orders_router
    from billing.orders.pages import router as order_pages_router
    from billing.payments.controllers import router as payments_router
    from contracts.controllers import router as contracts_router
    from listings.controllers import router as listings_router
    from market.controllers import router as market_router
    from operators.controllers import router as operators_router

    return [market_router, listings_router, operators_router, contracts_router, billing_router, payments_router,
            invoices_router, orders_router, order_pages_router, disbursements_router]


def _home_panels() -> home.HomePanels:
    """What the home page shows each role: every package hands its panels over here, so market never
    imports the packages above it."""
    from listings.home import panels as listings_panels

    panels = home.HomePanels()
    listings_panels.register(panels)  # the work queues first; market's organization and audit panels after
    home.register(panels)
    return panels


def _fen_filter(amount: int | None) -> str:
    return "" if amount is None else Money(int(amount)).format()


def template_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "xml"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(_=gettext, ngettext=ngettext, pgettext=pgettext, current_locale=current_locale)
    env.filters["money"] = _fen_filter
    return env


def create_app(settings: Settings, *, run_jobs: bool = False, manage_db: bool = True) -> Litestar:
    """Build the app. `run_jobs`: start the job runtime in the lifespan (default: in `serve`)."""
    settings = settings.with_secret() if settings.is_sqlite else settings
    db.bind(settings)
    identity.configure(settings)
    jobs.discover(TASK_MODULES)
    from billing import orders

    orders.install()  # payments tell orders of money in and out (billing.orders.tasks does so in workers)

    from market import runtime

    runtime.configure(settings)
    storage = runtime.storage()

    state = State({"settings": settings, "storage": storage, "jobs": None, "home_panels": _home_panels()})

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar):
        if manage_db:
            await db.start(settings)
        runtime = None
        if run_jobs:
            # a serving process loads the segmenter and the search snapshot before the first query
            from listings import search

            await search.warm_up()
            runtime = jobs.JobRuntime(settings, with_worker=not settings.broker_url and settings.embedded_worker)
            await runtime.start()
            app.state.jobs = runtime
        try:
            yield
        finally:
            if runtime:
                await runtime.stop()
            if manage_db:
                await db.stop()

    swagger = SwaggerRenderPlugin(
        js_url="/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js",
        css_url="/static/vendor/swagger-ui-5.35.0/swagger-ui.css",
        standalone_preset_js_url="/static/vendor/swagger-ui-5.35.0/swagger-ui-standalone-preset.js",
        path="/",
        favicon="<link rel='icon' type='image/png' href='/static/favicon.png'>",
    )
    return Litestar(
        route_handlers=[
            *_routers(),
            create_static_files_router(path="/static", directories=[STATIC], opt=PUBLIC,
                                       include_in_schema=False, send_as_attachment=False),
        ],
        middleware=[
            AuthMiddleware(default_locale=settings.default_locale),
        ],
        guards=[access_guard, bounds_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(template_environment())),
        openapi_config=OpenAPIConfig(
            title="公共数据授权运营交易平台 API", version="1.0.0", path="/schema",
            description="Public-data marketplace JSON API. Errors: {code, message}. Auth: session cookie "
                        "(POST /api/v1/session) with X-CSRF-Token for writes, or Authorization: Bearer <API key>.",
            render_plugins=[swagger, JsonRenderPlugin(path="/openapi.json")],
            # the real error body and statuses, and the id bounds, added once before the document is served
            openapi_router=Router("/schema", route_handlers=[], include_in_schema=False,
                                  before_request=describe_before_serving),
        ),
        # compression is left to the reverse proxy in production (nginx gzip): it costs every request here
        logging_config=LoggingConfig(log_exceptions="debug", root={"level": settings.log_level, "handlers": ["queue_listener"]}),
        lifespan=[lifespan],
        state=state,
        debug=False,
    )


logging.getLogger("market").setLevel(logging.INFO)
