"""Command line: `python -m app migrate | shop create | token create | token revoke | cluster up|status|down|move-shop | serve | relay | deliver | demo-data | learn export|train`."""

from __future__ import annotations

import argparse
import os
import sys


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set (make run / make migrate set it for the embedded database)")
    return url


def cmd_migrate(args: argparse.Namespace) -> None:
    from app.migrate import migrate

    migrate(_database_url())


def _positive_days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not days > 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of days, not {value!r}")
    return days


def cmd_token_create(args: argparse.Namespace) -> None:
    from app.tokens import create_token

    token = create_token(
        _database_url(),
        user_id=args.user_id,
        role=args.role,
        barber_id=args.barber_id,
        expires_in_days=args.expires_in_days,
        shop_id=args.shop_id,
    )
    print(
        f"{args.role} token for user {args.user_id}"
        + (f" (barber {args.barber_id})" if args.barber_id else "")
        + (f" (shop {args.shop_id})" if args.shop_id else "")
    )
    print(token)


def cmd_shop_create(args: argparse.Namespace) -> None:
    from app.shops import create_shop

    shop_id = create_shop(_database_url(), name=args.name, timezone=args.timezone, admin_user_id=args.admin_user_id)
    print(f"shop {args.name!r} created")
    print(shop_id)


def cmd_token_revoke(args: argparse.Namespace) -> None:
    from app.tokens import revoke_token

    token = args.token
    if token == "-":  # from stdin: a token on the command line shows in `ps` and shell history
        token = sys.stdin.readline().strip()
    if revoke_token(_database_url(), token):
        print("revoked")
    else:
        sys.exit("no live token matches")


def cmd_serve(args: argparse.Namespace) -> None:
    _database_url()
    from app.serve import main as serve

    serve()


def cmd_relay(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.relay import run_forever

    run_forever(Settings.from_env(database_url=_database_url()))


def cmd_deliver(args: argparse.Namespace) -> None:
    from app.config import Settings
    from app.webhooks import run_forever

    run_forever(Settings.from_env(database_url=_database_url()))


def cmd_cluster(args: argparse.Namespace) -> None:
    from app.cluster import main as cluster

    cluster(args)


def cmd_ha(args: argparse.Namespace) -> None:
    from app.ha import main as ha

    ha(args)


def cmd_demo_data(args: argparse.Namespace) -> None:
    from app.demo import main as demo

    demo(_database_url())


def main(argv: list[str] | None = None) -> None:
    from app.logs import configure

    try:
        configure(os.environ.get("LOG_LEVEL", "INFO"), os.environ.get("LOG_FORMAT", "json"))
    except ValueError as e:
        sys.exit(f"python -m app: {e}")
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "migrate",
        help="apply migrations, functions and grants to DATABASE_URL, then set the change feed's mode "
        "(CHANGE_FEED=auto|logical|outbox)",
    )
    p.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="issue or revoke API tokens").add_subparsers(
        dest="token_command", required=True
    )
    p = token.add_parser("create", help="print a new bearer token (the last line printed)")
    p.add_argument("--user-id", type=int, required=True)
    p.add_argument("--role", choices=["client", "barber", "admin"], required=True)
    p.add_argument("--barber-id", type=int)
    p.add_argument("--shop-id", type=int, help="an admin token for this shop only (default: every shop)")
    p.add_argument("--expires-in-days", type=_positive_days, help="a positive number of days; default: never expires")
    p.set_defaults(func=cmd_token_create)
    p = token.add_parser("revoke", help="revoke a token")
    p.add_argument("token", help="the token, or - to read it from standard input (keeps it out of `ps`)")
    p.set_defaults(func=cmd_token_revoke)

    shop = sub.add_parser("shop", help="create shops").add_subparsers(dest="shop_command", required=True)
    p = shop.add_parser("create", help="create a shop; prints its id on the last line")
    p.add_argument("--name", required=True)
    p.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC)")
    p.add_argument("--admin-user-id", type=int, help="this user becomes the shop's admin")
    p.set_defaults(func=cmd_shop_create)

    cluster = sub.add_parser(
        "cluster", help="a PL/Proxy proxy and N partitions on this machine (docs/SCALING.md)"
    ).add_subparsers(dest="cluster_command", required=True)
    for action, text in (
        ("up", "create (first time) and start the proxy and partitions, migrated; prints the status lines"),
        ("status", "one line per node: proxy URL DATADIR, then partition K URL DATADIR"),
        ("down", "stop every node"),
        ("move-shop", "move one shop's rows to another partition (its calls wait or fail with BK015 meanwhile)"),
    ):
        p = cluster.add_parser(action, help=text)
        p.add_argument("--dir", required=True, help="the cluster's directory")
        if action == "up":
            p.add_argument("--partitions", type=int, help="how many partitions (a power of two; default 1)")
            p.add_argument(
                "--mode",
                choices=["durable", "throwaway"],
                default="durable",
                help="durable (default) or throwaway (fsync off: tests)",
            )
        if action == "move-shop":
            p.add_argument("--shop", type=int, required=True)
            p.add_argument("--to", type=int, required=True, help="the partition number to move it to")
        p.set_defaults(func=cmd_cluster, action=action)

    ha = sub.add_parser(
        "ha",
        help="a primary, a synchronous standby and a pg_auto_failover monitor on this machine (docs/RELIABILITY.md)",
    ).add_subparsers(dest="ha_command", required=True)
    for action, text in (
        ("up", "create (first time) or start the monitor and nodes, wait for primary and secondary, migrate"),
        ("status", "the nodes' states, `primary NAME HOST:PORT`, the async windows, `url URL` (multi-host)"),
        ("down", "stop every keeper and server"),
    ):
        p = ha.add_parser(action, help=text)
        p.add_argument("--dir", required=True, help="the formation's directory")
        if action == "up":
            p.add_argument(
                "--sync-fallback",
                choices=["on", "off"],
                help="on (default): with no healthy standby the primary goes on alone (wait_primary, async); "
                "off: commits wait for a standby (needs --standbys 2)",
            )
            p.add_argument(
                "--standbys", type=int, help="standby nodes at creation (default 1; 2 with --sync-fallback off)"
            )
            p.add_argument(
                "--failover-timeout",
                type=int,
                help="seconds (at creation) the monitor waits on a silent node, and before it promotes "
                "(default pg_auto_failover's: 20 + 30)",
            )
        p.set_defaults(func=cmd_ha, action=action)

    p = sub.add_parser("serve", help="serve the HTTP API on HOST:PORT (environment: see app/config.py)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("relay", help="run the change feed's relay alone (the service runs one too)")
    p.set_defaults(func=cmd_relay)
    p = sub.add_parser("deliver", help="run the webhook delivery worker alone (the service runs one too)")
    p.set_defaults(func=cmd_deliver)
    p = sub.add_parser("demo-data", help="load demo barbers and services (idempotent) and print demo tokens")
    p.set_defaults(func=cmd_demo_data)
    from app.learning.cli import register as register_learn

    register_learn(sub)

    args = parser.parse_args(argv)
    import psycopg

    try:
        args.func(args)
    except psycopg.Error as e:  # a refusal of the engine (the catalogue's SQLSTATE and words), not a traceback
        diag = e.diag
        detail = f": {diag.message_detail}" if diag.message_detail else ""
        sys.exit(f"python -m app {args.command}: {diag.sqlstate or 'error'} {diag.message_primary or e}{detail}")


if __name__ == "__main__":
    main()
