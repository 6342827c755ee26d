"""A stand-in payment gateway client."""


class PaymentError(Exception):
    """The gateway refused the charge."""


def charge(amount_cents: int, card_token: str) -> str:
    if amount_cents <= 0:
        raise PaymentError("nothing to charge")
    return f"receipt-{card_token[-4:]}-{amount_cents}"
