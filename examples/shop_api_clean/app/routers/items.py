"""Catalogue endpoints."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Item, get_db

router = APIRouter(prefix="/items")

Db = Annotated[Session, Depends(get_db)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


class ItemOut(BaseModel):
    id: int
    name: str


@router.get("/", response_model=list[ItemOut])
def list_items(db: Db, limit: Limit = 20, offset: Offset = 0) -> list[Item]:
    return list(db.scalars(select(Item).limit(limit).offset(offset)).all())


@router.get("/search", response_model=list[ItemOut])
def search_items(q: str, db: Db, limit: Limit = 20, offset: Offset = 0) -> list[Item]:
    query = select(Item).where(Item.name.contains(q)).limit(limit).offset(offset)
    return list(db.scalars(query).all())
