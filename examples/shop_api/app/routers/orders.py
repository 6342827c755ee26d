"""Order endpoints."""

import logging

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from app.db import Order, get_db
from app.payments import charge

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/orders")


# planted: API011 (here and in notify_customer: `Depends()` as a default value)
@router.post("/{order_id}/pay")
def pay_order(order_id: int, db: Session = Depends(get_db)):
    order = db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    try:
        receipt = charge(order.total_cents, order.card_token)
    # planted: ERR001 (catches KeyboardInterrupt and cancellation too)
    except:
        receipt = None
    return {"paid": receipt is not None}


@router.post("/{order_id}/notify")
def notify_customer(order_id: int, db: Session = Depends(get_db)):
    order = db.get(Order, order_id)
    try:
        order.customer.send_receipt()
    # planted: ERR002 (the failure disappears)
    except Exception:
        pass
    return {"queued": True}


def refund_amount(order: Order) -> int:
    try:
        return order.total_cents - order.discount_cents
    # planted: ERR003 (a default hides every bug behind it)
    except Exception:
        amount = 0
    return amount
