"""Database models and the session dependency."""

from collections.abc import Iterator

from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from app.config import DATABASE_URL

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(engine)


# planted: PROD007 (models, but no Alembic migrations in the project)
class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    total_cents: Mapped[int]
    discount_cents: Mapped[int]
    card_token: Mapped[str]


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session
