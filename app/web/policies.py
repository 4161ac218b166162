"""The shop's booking policy (contract section 7): GET and PUT /shops/{shop_id}/policy. The
rules it sets are enforced by the SQL functions (booking.assert_start_allowed,
booking.assert_change_allowed, booking.free_slots); these handlers read and replace it."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get, put
from litestar.params import FromPath, JSONBody

from app.errors import catalogue_error
from app.gateway import database_errors
from app.queries import QUERIES
from app.web.auth import Authenticated, count_write
from app.web.bodies import Int
from app.web.openapi import PROBLEMS, path_id

SECURE = {"security": [{"bearer": []}], "responses": PROBLEMS, "tags": ["shops"]}


class Policy(msgspec.Struct, forbid_unknown_fields=True):
    """A shop's booking policy: the minimum notice before a start and the maximum advance
    (null: none) a client may book with, and the cut-offs before a start after which a
    client may no longer cancel or reschedule (staff may)."""

    min_notice_minutes: Int
    max_advance_days: Int | None
    cancel_cutoff_minutes: Int
    reschedule_cutoff_minutes: Int


class ShopPolicy(Policy):
    shop_id: int = 0


def _answer(row) -> Response[ShopPolicy]:
    return Response(
        ShopPolicy(
            row["min_notice_minutes"],
            row["max_advance_days"],
            row["cancel_cutoff_minutes"],
            row["reschedule_cutoff_minutes"],
            shop_id=row["shop_id"],
        ),
        headers={"Cache-Control": "no-store"},
    )


@get("/shops/{shop_id:str}/policy", summary="The shop's booking policy", **SECURE)
async def read_policy(request: Request, caller: Authenticated, shop_id: FromPath[str]) -> Response[ShopPolicy]:
    shop = path_id(shop_id, "Shop")
    with database_errors():
        row = await request.app.state.read_pool.fetchrow(QUERIES["shop_policy"], shop)
    if row is None:
        raise catalogue_error("BK014", f"No shop has id {shop}.")
    return _answer(row)


@put("/shops/{shop_id:str}/policy", summary="Replace the shop's booking policy (its admin)", **SECURE)
async def replace_policy(
    request: Request, caller: Authenticated, shop_id: FromPath[str], data: JSONBody[Policy]
) -> Response[ShopPolicy]:
    count_write(request, caller)
    shop = path_id(shop_id, "Shop")
    with database_errors():
        row = await request.app.state.pool.fetchrow(
            QUERIES["set_shop_policy"],
            shop,
            data.min_notice_minutes,
            data.max_advance_days,
            data.cancel_cutoff_minutes,
            data.reschedule_cutoff_minutes,
            caller.user_id,
            caller.role,
        )
    return _answer(row)


HANDLERS = [read_policy, replace_policy]
