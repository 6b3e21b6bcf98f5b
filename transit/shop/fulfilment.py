"""Fulfilment: on capture of an order's payment, its tickets (one per rider category line,
signed) and the operators' sales lines, in the transaction that completes the order."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from transit.db.models_tickets import OrderRow, SaleRow, TicketRow
from transit.tickets.issuing import Issuer, TicketData


def _shares(order: OrderRow, line: dict[str, Any]) -> dict[str, int]:
    """The line's amount per operator: each product to the operator its id names
    (`OP:...`), any remainder (a transfer discount or supplement) to the first operator."""
    amount = int(line["amount"]["amount"])
    out: dict[str, int] = defaultdict(int)
    for p in line.get("products", []):
        op = str(p["product_id"]).split(":", 1)[0]
        if op in order.operators:
            out[op] += int(p["price"]["amount"]) * int(line["count"])
    first = order.operators[0]
    out[first] += amount - sum(out.values())
    return {op: v for op, v in out.items() if v or op == first}


def fulfil(s: Session, order: OrderRow, issuer: Issuer, now: datetime,
           retention: timedelta) -> list[TicketRow]:
    """Issue the order's tickets and record its sales (the caller holds the order)."""
    d = order.data
    tickets = []
    for i, line in enumerate(d["lines"]):
        tid = "tkt_" + secrets.token_urlsafe(15)
        used = {p["product_id"]: p["name"] for p in line.get("products", [])}
        ticket = TicketData(
            ticket_id=tid, product_id="+".join(used) or d["product_id"],
            product_name=" + ".join(dict.fromkeys(used.values())) or d["product_name"],
            rider_category=line["rider_category"], travellers=int(line["count"]),
            valid_from=int(d["valid_from"]), valid_until=int(d["valid_until"]),
            operators=tuple(order.operators), zones=tuple(d.get("zones", [])),
            issued_at=int(now.timestamp()))
        row = TicketRow(
            id=tid, order_id=order.id, line=i, user_id=order.user_id,
            product_id=ticket.product_id, product_name=ticket.product_name,
            rider_category=ticket.rider_category, travellers=[line],
            operators=list(ticket.operators), zones=list(ticket.zones),
            valid_from=datetime.fromtimestamp(ticket.valid_from, now.tzinfo),
            valid_until=datetime.fromtimestamp(ticket.valid_until, now.tzinfo),
            issued_at=now, token=issuer(ticket), status="valid", refunded_at=None,
            retain_until=now + retention)
        s.add(row)
        tickets.append(row)
        for op, amount in _shares(order, line).items():
            s.add(SaleRow(operator_id=op, order_id=order.id, ticket_id=tid,
                          product_id=ticket.product_id, amount=amount,
                          currency=order.currency, status="sold", sold_at=now,
                          refunded_at=None))
    return tickets
