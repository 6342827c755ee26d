"""Order endpoints."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from app.db import Order, get_db
from app.payments import PaymentError, charge

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/orders")

Db = Annotated[Session, Depends(get_db)]


@router.post("/{order_id}/payments")
def pay_order(order_id: int, db: Db) -> dict[str, bool]:
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    try:
        charge(order.total_cents, order.card_token)
    except PaymentError:
        logger.warning("payment refused for order %s", order_id, exc_info=True)
        return {"paid": False}
    return {"paid": True}


def refund_amount(order: Order) -> int:
    return max(order.total_cents - order.discount_cents, 0)
