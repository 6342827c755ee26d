"""A stand-in payment gateway client."""


def charge(amount_cents: int, card_token: str) -> str:
    if amount_cents <= 0:
        raise ValueError("nothing to charge")
    return f"receipt-{card_token[-4:]}-{amount_cents}"
