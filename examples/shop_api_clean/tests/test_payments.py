import pytest

from app.payments import PaymentError, charge


def test_charge_returns_a_receipt() -> None:
    assert charge(500, "tok_4242") == "receipt-4242-500"


def test_charge_refuses_zero() -> None:
    with pytest.raises(PaymentError):
        charge(0, "tok_4242")
