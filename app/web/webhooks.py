"""A shop's webhooks over HTTP (contract section 7; README "Webhooks"), for its admin.

| route                                                   | answers                                  |
|---------------------------------------------------------|------------------------------------------|
| POST   /shops/{shop_id}/webhooks {url, events?}         | 201 the subscription with its secret     |
| GET    /shops/{shop_id}/webhooks                        | 200 {items}: subscriptions and their     |
|                                                         | delivery state, never their secrets      |
| POST   /shops/{shop_id}/webhooks/{id}/rotate            | 200 with the new secret (the old one     |
|                                                         | signs too for 24 hours)                  |
| DELETE /shops/{shop_id}/webhooks/{id}                   | 204                                      |
| POST   /shops/{shop_id}/webhooks/{id}/disable           | 200: no delivery until enabled           |
| POST   /shops/{shop_id}/webhooks/{id}/enable {since?}   | 200: enabled; dead deliveries and what   |
|                                                         | the feed recorded since `since` (default |
|                                                         | since it was disabled) are delivered     |
| POST   /shops/{shop_id}/webhooks/{id}/test              | 202 {message_id}: a webhook.test message |
| GET    /shops/{shop_id}/webhooks/{id}/deliveries        | 200 {items}: newest first; ?status=      |
|                                                         | pending, delivered or dead; ?before=     |
|                                                         | (an RFC 3339 instant), ?limit= (1-500)   |

Each handler parses the request into typed values and makes ONE call of the SQL function
(booking.create_webhook, ...), which decides who may (booking.assert_shop_admin: BK012,
BK014; a webhook of another shop is BK024 404) and what is valid (BK008). The one rule the
database cannot apply is the URL's address (it needs name resolution): app.webhooks.check_url
refuses loopback and private hosts (422) unless WEBHOOK_ALLOW_PRIVATE=1.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from app.gateway import database_errors
from app.queries import QUERIES
from app.records import Webhook, WebhookDeliveries, WebhookDelivery, Webhooks, WebhookTest, from_row
from app.web.appointments import instant
from app.web.auth import Authenticated, count_write
from app.web.openapi import PROBLEMS, path_id
from app.webhooks import EVENT_TYPES, check_url

SECURE = {"security": [{"bearer": []}], "responses": PROBLEMS, "tags": ["webhooks"]}
EventType = Annotated[str, Meta(max_length=40)]


class NewWebhook(msgspec.Struct, forbid_unknown_fields=True):
    """A subscription: the URL the shop's events are POSTed to (http or https, at most 2048
    characters) and which of appointment.booked, appointment.changed, appointment.cancelled
    (default: all three)."""

    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    events: Annotated[list[EventType], Meta(min_length=1, max_length=len(EVENT_TYPES))] | None = None


class Replay(msgspec.Struct, forbid_unknown_fields=True):
    """Enable again; replay what the change feed recorded since `since` (RFC 3339; default:
    since the subscription was disabled)."""

    since: Annotated[str, Meta(max_length=40)] | None = None


def _webhook(row) -> Webhook:
    return from_row(Webhook, row)


def _answer(row, status: int = 200) -> Response[Webhook]:
    return Response(_webhook(row), status_code=status, headers={"Cache-Control": "no-store"})


@post("/shops/{shop_id:str}/webhooks", status_code=201, summary="Subscribe a URL to the shop's events", **SECURE)
async def create_webhook(
    request: Request, caller: Authenticated, shop_id: FromPath[str], data: JSONBody[NewWebhook]
) -> Response[Webhook]:
    count_write(request, caller)
    shop = path_id(shop_id, "Shop")
    await check_url(data.url, allow_private=request.app.state.settings.webhook_allow_private)
    with database_errors():
        row = await request.app.state.pool.fetchrow(
            QUERIES["create_webhook"], shop, data.url, data.events, caller.user_id, caller.role
        )
    return _answer(row, 201)


@get("/shops/{shop_id:str}/webhooks", summary="The shop's webhooks and their delivery state", **SECURE)
async def list_webhooks(request: Request, caller: Authenticated, shop_id: FromPath[str]) -> Response[Webhooks]:
    shop = path_id(shop_id, "Shop")
    with database_errors():
        rows = await request.app.state.read_pool.fetch(QUERIES["list_webhooks"], shop, caller.user_id, caller.role)
    return Response(Webhooks([_webhook(r) for r in rows]), headers={"Cache-Control": "no-store"})


async def _one(request: Request, caller: Authenticated, query: str, shop_id: str, webhook_id: str, *args):
    count_write(request, caller)
    shop, hook = path_id(shop_id, "Shop"), path_id(webhook_id, "Webhook")
    with database_errors():
        return await request.app.state.pool.fetchrow(QUERIES[query], shop, hook, *args, caller.user_id, caller.role)


@post(
    "/shops/{shop_id:str}/webhooks/{webhook_id:str}/rotate",
    status_code=200,
    summary="A new secret; the old one stays valid for 24 hours",
    **SECURE,
)
async def rotate_webhook_secret(
    request: Request, caller: Authenticated, shop_id: FromPath[str], webhook_id: FromPath[str]
) -> Response[Webhook]:
    return _answer(await _one(request, caller, "rotate_webhook_secret", shop_id, webhook_id))


@delete("/shops/{shop_id:str}/webhooks/{webhook_id:str}", status_code=204, summary="Remove a webhook", **SECURE)
async def delete_webhook(
    request: Request, caller: Authenticated, shop_id: FromPath[str], webhook_id: FromPath[str]
) -> None:
    await _one(request, caller, "delete_webhook", shop_id, webhook_id)


@post(
    "/shops/{shop_id:str}/webhooks/{webhook_id:str}/disable",
    status_code=200,
    summary="Stop delivering to a webhook",
    **SECURE,
)
async def disable_webhook(
    request: Request, caller: Authenticated, shop_id: FromPath[str], webhook_id: FromPath[str]
) -> Response[Webhook]:
    return _answer(await _one(request, caller, "disable_webhook", shop_id, webhook_id))


@post(
    "/shops/{shop_id:str}/webhooks/{webhook_id:str}/enable",
    status_code=200,
    summary="Enable a webhook again and replay what it missed",
    **SECURE,
)
async def enable_webhook(
    request: Request,
    caller: Authenticated,
    shop_id: FromPath[str],
    webhook_id: FromPath[str],
    data: JSONBody[Replay | None] = None,
) -> Response[Webhook]:
    since = instant("since", data.since) if data is not None else None
    return _answer(await _one(request, caller, "enable_webhook", shop_id, webhook_id, since))


@post(
    "/shops/{shop_id:str}/webhooks/{webhook_id:str}/test",
    status_code=202,
    summary="Queue a webhook.test message",
    **SECURE,
)
async def send_test_webhook(
    request: Request, caller: Authenticated, shop_id: FromPath[str], webhook_id: FromPath[str]
) -> Response[WebhookTest]:
    row = await _one(request, caller, "send_test_webhook", shop_id, webhook_id)
    return Response(WebhookTest(row[0]), status_code=202, headers={"Cache-Control": "no-store"})


@get(
    "/shops/{shop_id:str}/webhooks/{webhook_id:str}/deliveries",
    summary="A webhook's deliveries, newest first",
    **SECURE,
)
async def list_webhook_deliveries(
    request: Request,
    caller: Authenticated,
    shop_id: FromPath[str],
    webhook_id: FromPath[str],
    status: Annotated[str | None, QueryParameter(description="pending, delivered or dead")] = None,
    before: Annotated[str | None, QueryParameter(description="RFC 3339: deliveries created before")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> Response[WebhookDeliveries]:
    shop, hook = path_id(shop_id, "Shop"), path_id(webhook_id, "Webhook")
    with database_errors():
        rows = await request.app.state.read_pool.fetch(
            QUERIES["list_webhook_deliveries"],
            shop,
            hook,
            status,
            instant("before", before),
            limit,
            caller.user_id,
            caller.role,
        )
    return Response(
        WebhookDeliveries([from_row(WebhookDelivery, r) for r in rows]), headers={"Cache-Control": "no-store"}
    )


HANDLERS = [
    create_webhook,
    list_webhooks,
    rotate_webhook_secret,
    delete_webhook,
    disable_webhook,
    enable_webhook,
    send_test_webhook,
    list_webhook_deliveries,
]
