"""`market` — the command line: serve, worker, migrate, demo, createuser, audit verify, jobs, ledger check, config."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys

from market.config import ConfigError, Settings, settings_table


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _prepare(settings: Settings) -> Settings:
    """Bind the database engine and the pieces every command needs (no web app)."""
    from market import db, identity, jobs, runtime
    from market.app import TASK_MODULES

    if settings.is_sqlite:
        settings = settings.with_secret()
    os.environ.setdefault("PICCOLO_CONF", "market.piccolo_conf")
    runtime.configure(settings)
    db.bind(settings)
    identity.configure(settings)
    jobs.discover(TASK_MODULES)
    return settings


async def migrate(settings: Settings, quiet: bool = False) -> None:
    """Apply every pending migration of every package, in dependency order."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    from market import db

    await db.start(settings)
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out if quiet else sys.stdout):
            result = await run_forwards(app_name="all", migration_id="all", fake=False)
        if not result.success:
            raise SystemExit(f"migration failed: {result.message}\n{out.getvalue()}")
    finally:
        await db.stop()


def cmd_serve(args) -> None:
    import uvicorn

    from market.app import create_app

    settings = _settings()
    if args.port:
        settings = Settings.from_env(port=args.port)
    settings = _prepare(settings)
    asyncio.run(migrate(settings, quiet=True))
    app = create_app(settings, run_jobs=True)
    mode = "in-process jobs" if not settings.broker_url else f"jobs via {settings.broker_kind}"
    print(f"公共数据授权运营交易平台 serving on http://{settings.host}:{settings.port} ({mode}, "
          f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}, "
          f"{'S3' if settings.s3_endpoint else 'local-disk objects'}, payments: {settings.payments_provider})",
          flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False, lifespan="on")


def cmd_worker(args) -> None:
    from market import db, jobs

    settings = _prepare(_settings())
    if not settings.broker_url:
        print("MARKET_BROKER_URL is empty: jobs run inside `market serve`; a separate worker needs "
              "redis://… or amqp://…", file=sys.stderr)
        raise SystemExit(2)

    async def main() -> None:
        await db.start(settings)
        runtime = jobs.JobRuntime(settings, with_worker=True)
        await runtime.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"worker running ({settings.worker_threads} threads, broker {settings.broker_kind})", flush=True)
        await stop.wait()
        await runtime.stop()
        await db.stop()

    asyncio.run(main())


def cmd_migrate(args) -> None:
    settings = _prepare(_settings())
    asyncio.run(migrate(settings))


def cmd_demo(args) -> None:
    from market import demo

    settings = _prepare(_settings())

    async def main() -> None:
        await migrate(settings, quiet=True)
        from market import db

        await db.start(settings)
        try:
            summary = await demo.load(settings)
        finally:
            await db.stop()
        for line in summary:
            print(line)

    asyncio.run(main())


def cmd_createuser(args) -> None:
    from market import db, identity
    from market.context import Actor, acting_as

    settings = _prepare(_settings())
    password = args.password or os.environ.get("MARKET_NEW_USER_PASSWORD") or getpass.getpass("password: ")

    async def main() -> None:
        await db.start(settings)
        try:
            with acting_as(Actor(label="cli")):
                async with db.atomic():
                    from market.tables import Organization

                    org = await Organization.select().where(
                        Organization.credit_code == args.credit_code.upper()).first()
                    if org is None:
                        if not args.org_name:
                            raise SystemExit("organization not found: give --org-name and --org-kind to create it")
                        org = await identity.create_organization(
                            name=args.org_name, credit_code=args.credit_code, kind=args.org_kind,
                            accept_checksum_warning=args.accept_checksum_warning, verified=True)
                    user = await identity.create_user(email=args.email, password=password,
                                                      display_name=args.name or "", organization_id=org["id"],
                                                      roles=args.role)
            print(f"created user {user['email']} (id {user['id']}) in {org['name']} with roles {', '.join(args.role)}")
        finally:
            await db.stop()

    from market.errors import DomainError

    try:
        asyncio.run(main())
    except DomainError as exc:
        print(f"error: {exc.code}: {exc.message.format(**exc.params)}", file=sys.stderr)
        raise SystemExit(1) from None


def _with_db(settings: Settings, work):
    """Run the coroutine function `work` with the database open; a DomainError exits 1 naming its code."""
    from market import db
    from market.errors import DomainError

    async def main():
        await db.start(settings)
        try:
            return await work()
        finally:
            await db.stop()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        print(f"error: {exc.code}: {exc.message.format(**exc.params)}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_audit_verify(args) -> None:
    from market import audit

    async def main() -> int:
        report = await audit.verify()
        head = await audit.head()
        if report.ok:
            print(f"audit chain OK: {report.events} events"
                  + (f", head #{head['seq']} {head['hash']}" if head else ""))
            return 0
        print(f"audit chain BROKEN at event #{report.first_bad_seq}: {report.reason} "
              f"({report.events} events verified before it)", file=sys.stderr)
        return 1

    raise SystemExit(_with_db(_prepare(_settings()), main))


def cmd_jobs(args) -> None:
    """Dead letters from the command line: the site may be down when an operator needs them."""
    import json

    from market import dead_letters
    from market.context import Actor, acting_as

    async def main() -> None:
        with acting_as(Actor(label="cli")):
            if args.jobs_command == "dead":
                rows, total = await dead_letters.list_dead(page=1, page_size=200)
                for r in rows:
                    print(f"#{r['id']}  {r['job']}  {json.dumps(r['arguments'], ensure_ascii=False)}  "
                          f"reason={r['reason']} sends={r['sends']} failures={r['failures']} "
                          f"at={r['dead_at']:%Y-%m-%d %H:%M:%S}  {r['last_error'][:200]}")
                print(f"{total} dead job(s)")
            elif args.jobs_command == "requeue":
                row = await dead_letters.requeue(args.id)
                print(f"requeued #{row['id']} {row['job']}")
            else:
                row = await dead_letters.discard(args.id)
                print(f"discarded #{row['id']} {row['job']}")

    _with_db(_prepare(_settings()), main)


def cmd_ledger_check(args) -> None:
    from billing import ledger

    async def main() -> int:
        report = await ledger.check()
        if report.ok:
            print(f"ledger OK: {report.transactions} transactions balance, "
                  f"{report.accounts} account balances equal their postings")
            return 0
        print(f"ledger BROKEN: {report.problem}", file=sys.stderr)
        return 1

    raise SystemExit(_with_db(_prepare(_settings()), main))


def cmd_config(args) -> None:
    settings = _settings()
    for var, default in settings_table():
        name = var.removeprefix("MARKET_").lower()
        value = getattr(settings, name)
        if "secret" in name or "key" in name or "password" in name:
            value = "***" if value else ""
        print(f"{var}={value}" + ("" if str(value) == default else f"   (default: {default})"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="market", description="公共数据授权运营交易平台")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the web app (runs migrations; in-process jobs unless a broker is set)")
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="run a job worker against MARKET_BROKER_URL").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load demo organizations, users and data (idempotent)").set_defaults(func=cmd_demo)
    p = sub.add_parser("createuser", help="create a user (and its organization if new)")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="or MARKET_NEW_USER_PASSWORD, or prompt")
    p.add_argument("--name", default="")
    p.add_argument("--credit-code", required=True, help="统一社会信用代码 of the organization")
    p.add_argument("--org-name")
    p.add_argument("--org-kind", default="enterprise", choices=["government", "institution", "enterprise", "platform"])
    p.add_argument("--accept-checksum-warning", action="store_true")
    p.add_argument("--role", action="append", required=True,
                   choices=["holder", "buyer", "operator", "agency", "regulator", "admin"])
    p.set_defaults(func=cmd_createuser)
    audit = sub.add_parser("audit", help="audit chain tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="verify the whole hash chain").set_defaults(func=cmd_audit_verify)
    jobs_p = sub.add_parser("jobs", help="dead letters: jobs set aside after killing their process or failing")
    jobs_sub = jobs_p.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("dead", help="list dead jobs").set_defaults(func=cmd_jobs)
    for name, what in (("requeue", "send a dead job again (audited)"), ("discard", "drop a dead job (audited)")):
        p = jobs_sub.add_parser(name, help=what)
        p.add_argument("id", type=int)
        p.set_defaults(func=cmd_jobs)
    ledger = sub.add_parser("ledger", help="ledger tools")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_sub.add_parser("check", help="every transaction balances and every balance equals its postings"
                          ).set_defaults(func=cmd_ledger_check)
    sub.add_parser("config", help="print the effective configuration").set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
