from fastapi import APIRouter

router = APIRouter()
billing = APIRouter(tags=["billing"])


@router.get("/health")  # expect: ACME001
def health() -> dict[str, str]:
    return {"status": "ok"}


@billing.get("/invoices")
def invoices() -> list[str]:
    return []


@router.post("/orders", tags=["orders"])
def create_order() -> dict[str, str]:
    return {}
