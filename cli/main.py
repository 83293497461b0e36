"""`carflow`: the command line (migrations, accounts, demo data, the processes of the stack)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from carflow.settings import ConfigurationError, Settings, load_settings

Handler = Callable[[Settings, argparse.Namespace], int]


def _session_command(
    work: Callable[[Any, Settings], Awaitable[Any]],
) -> Callable[[Settings], Any]:
    """Run `work(session, settings)` in one committed session on a disposable engine."""

    async def run(settings: Settings) -> Any:
        from db.session import create_engine, create_session_factory

        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session:
                result = await work(session, settings)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return lambda settings: asyncio.run(run(settings))


def _print_created(created: Any) -> None:
    print(json.dumps({"id": str(created.id), "token": created.token}))


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from db.migrate import current_revision, upgrade

    asyncio.run(upgrade(settings))
    revision = asyncio.run(current_revision(settings))
    url = settings.database.render_as_string(hide_password=True)
    print(f"database {url} is at revision {revision}", file=sys.stderr)
    return 0


def cmd_dealer_create(settings: Settings, args: argparse.Namespace) -> int:
    from db.accounts import create_dealer

    async def work(session: Any, _settings: Settings) -> Any:
        return await create_dealer(
            session,
            args.name,
            remote_sale_enabled=args.remote_sale,
            email=args.email,
            phone=args.phone,
            address=args.address,
        )

    _print_created(_session_command(work)(settings))
    return 0


def cmd_dealer_user(settings: Settings, args: argparse.Namespace) -> int:
    """`carflow dealer user add|list|disable|enable`: the people of a centre (the /vendeur app)."""
    import uuid

    from api.dealer_app import users
    from carflow.links import dealer_password_url
    from db.models import utcnow

    async def work(session: Any, settings: Settings) -> Any:
        now = utcnow()
        if args.user_action == "add":
            user = await users.add_user(
                session, uuid.UUID(args.dealer_id), args.email, settings, name=args.name, now=now
            )
            token = await users.issue_password_token(session, user, "set", now)
            days = users.SET_LINK_VALIDITY.days
            print(
                f"Send {user.email} this one-time link to choose a password (valid {days} days):",
                file=sys.stderr,
            )
            return {
                "id": str(user.id),
                "email": user.email,
                "set_password_url": dealer_password_url(settings, token),
                "valid_days": days,
            }
        if args.user_action == "list":
            return [
                {
                    "id": str(u.id),
                    "email": u.email,
                    "name": u.name,
                    "password_set": u.password_hash is not None,
                    "disabled": u.disabled_at is not None,
                }
                for u in await users.users_of(session, uuid.UUID(args.dealer_id))
            ]
        if args.user_action == "disable":
            user = await users.disable_user(session, args.email, now)
        else:
            user = await users.enable_user(session, args.email)
        return {"id": str(user.id), "email": user.email, "disabled": user.disabled_at is not None}

    try:
        result = _session_command(work)(settings)
    except (users.UserProblem, ValueError) as exc:
        print(f"carflow: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_staff_create(settings: Settings, args: argparse.Namespace) -> int:
    from db.accounts import create_staff

    _print_created(_session_command(lambda s, _: create_staff(s, args.name))(settings))
    return 0


def cmd_inspector_create(settings: Settings, args: argparse.Namespace) -> int:
    from db.accounts import create_inspector

    _print_created(_session_command(lambda s, _: create_inspector(s, args.name))(settings))
    return 0


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.demo import load_demo, read_credentials

    created = _session_command(load_demo)(settings)
    if created is None:
        print("demo data already loaded", file=sys.stderr)
        created = read_credentials(settings) or {}
    print(json.dumps(created, indent=2, ensure_ascii=False))
    return 0


def cmd_api(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from api import create_app
    from carflow.heap import freeze_startup_heap
    from carflow.logs import configure_logging

    configure_logging(settings, service="api")
    app = create_app(settings)
    freeze_startup_heap()  # carflow/heap.py: no 130 ms full collections over the app's objects
    uvicorn.run(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=True,
    )
    return 0


def cmd_worker(_settings: Settings, _args: argparse.Namespace) -> int:
    import worker

    worker.exit_now(worker.main())
    return 0  # not reached


def cmd_mailsink(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.mailsink import serve_forever

    serve_forever(settings.mailbox_dir, settings.smtp_host, settings.smtp_port)
    return 0


def cmd_devserver(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.devserver import exec_devserver

    exec_devserver(settings)
    return 0  # not reached: the process became the dev server


def cmd_dev(settings: Settings, _args: argparse.Namespace) -> int:
    from cli.devrunner import run_dev_stack

    return run_dev_stack(settings)


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from cli.seed import seed
    from db.session import create_engine, create_session_factory

    async def run() -> Any:
        engine = create_engine(settings)
        try:
            return await seed(
                create_session_factory(engine),
                proposals=args.proposals,
                listings=args.listings,
                dealers=args.dealers,
                seed_value=args.seed,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        finally:
            await engine.dispose()

    done = asyncio.run(run())
    print(
        json.dumps(
            {
                "proposals": done.proposals,
                "listings": done.listings,
                "seconds": round(done.seconds, 1),
                "dealers": [{"id": i, "token": t} for i, t in done.dealers],
                "staff_token": done.staff_token,
            },
            indent=2,
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carflow",
        description="Carflow: durable workflows for warranty proposals and vehicle listings. "
        "Configured by CARFLOW_* environment variables (see the README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("migrate", help="upgrade the database schema to the newest revision").set_defaults(
        handler=cmd_migrate
    )

    dealer = sub.add_parser("dealer", help="dealer accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    dealer_create = dealer.add_parser("create", help="create a dealer; prints its id and API key")
    dealer_create.add_argument("name")
    dealer_create.add_argument(
        "--no-remote-sale",
        dest="remote_sale",
        action="store_false",
        help="without the remote-sale option (proposals by email are refused)",
    )
    dealer_create.add_argument("--email", help="contact email shown to buyers")
    dealer_create.add_argument("--phone", help="contact phone shown to buyers")
    dealer_create.add_argument("--address", help="postal address shown to buyers")
    dealer_create.set_defaults(handler=cmd_dealer_create)
    user = dealer.add_parser(
        "user", help="people who log in to the dealer web app (/vendeur)"
    ).add_subparsers(dest="user_action", required=True, metavar="ACTION")
    user_add = user.add_parser("add", help="add a user to a dealer; prints a one-time set-password link")
    user_add.add_argument("dealer_id", metavar="DEALER_ID")
    user_add.add_argument("email", metavar="EMAIL")
    user_add.add_argument("--name", default="", help="the person's name, shown in the app's menu")
    user_list = user.add_parser("list", help="list a dealer's users")
    user_list.add_argument("dealer_id", metavar="DEALER_ID")
    for action, text in (
        ("disable", "stop a user from logging in (their sessions end at once)"),
        ("enable", "let a disabled user log in again"),
    ):
        user.add_parser(action, help=text).add_argument("email", metavar="EMAIL")
    for parser_ in (user_add, user_list, *(user.choices[a] for a in ("disable", "enable"))):
        parser_.set_defaults(handler=cmd_dealer_user)

    role_commands: tuple[tuple[str, Handler, str], ...] = (
        ("staff", cmd_staff_create, "an ADV staff member"),
        ("inspector", cmd_inspector_create, "a vehicle inspector"),
    )
    for role, handler, label in role_commands:
        group = sub.add_parser(role, help=f"{role} accounts").add_subparsers(
            dest="action", required=True, metavar="ACTION"
        )
        create = group.add_parser("create", help=f"create {label}; prints its id and token")
        create.add_argument("name")
        create.set_defaults(handler=handler)

    seed = sub.add_parser(
        "seed",
        help="bulk-insert read-model rows (no workflows) for measuring reads; prints the tokens",
    )
    seed.add_argument("--proposals", type=int, default=1000, metavar="N")
    seed.add_argument("--listings", type=int, default=1000, metavar="M")
    seed.add_argument(
        "--dealers", type=int, default=10, metavar="K", help="the first holds 20%% of proposals"
    )
    seed.add_argument("--seed", type=int, default=12, help="random seed (same seed, same rows)")
    seed.set_defaults(handler=cmd_seed)

    process_commands: tuple[tuple[str, Handler, str], ...] = (
        ("demo", cmd_demo, "load the demonstration data (dev profile), print its tokens"),
        ("api", cmd_api, "run the HTTP API (uvicorn on CARFLOW_API_HOST:CARFLOW_API_PORT)"),
        ("worker", cmd_worker, "run the Temporal worker (same as `python worker.py`)"),
        ("mailsink", cmd_mailsink, "run the dev SMTP sink (CARFLOW_SMTP_HOST:CARFLOW_SMTP_PORT)"),
        ("devserver", cmd_devserver, "run Temporal's dev server on a SQLite file under var/"),
        ("dev", cmd_dev, "run the whole embedded stack (what `make run` does)"),
    )
    for name, handler, text in process_commands:
        sub.add_parser(name, help=text).set_defaults(handler=handler)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(settings, args) or 0)
    except ConfigurationError as exc:
        print(f"carflow: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from carflow.database_errors import describe_database_error, is_database_error
        from carflow.temporal_client import TemporalUnreachable

        if isinstance(exc, TemporalUnreachable):
            print(f"carflow: {exc}", file=sys.stderr)
            return 1
        if is_database_error(exc):
            print(f"carflow: {describe_database_error(settings, exc)}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
