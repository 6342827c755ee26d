"""Catalogue endpoints."""

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Item, get_db

router = APIRouter(prefix="/items")


class ItemOut(BaseModel):
    id: int
    name: str


# planted: API001 (returns every item, no pagination), API011 (`Depends()` as a default)
@router.get("/", response_model=list[ItemOut])
def list_items(db: Session = Depends(get_db)):
    return db.scalars(select(Item)).all()


# planted: API002 (`limit` has no upper bound), API011
@router.get("/search", response_model=list[ItemOut])
def search_items(q: str, limit: int = 50, offset: int = 0, db: Session = Depends(get_db)):
    query = select(Item).where(Item.name.contains(q)).limit(limit).offset(offset)
    return db.scalars(query).all()
