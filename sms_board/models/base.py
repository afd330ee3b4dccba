"""Column types, the declarative base and its naming convention, shared by every table."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    MetaData,
    String,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapper


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use sms_board.plumbing.utc.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


E = TypeVar("E", bound=enum.StrEnum)


class Named(TypeDecorator[E], Generic[E]):
    """An enum member in Python, its value in the database: the column stays a plain String.

    SQLAlchemy's own `Enum` would store member names and compare differently against the
    migrations; this keeps the stored strings and the schema exactly as they were. A
    string that is not one of the enum's values is refused before it reaches the
    database (whose CHECK constraint refuses it too).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum_class(value)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


@event.listens_for(Base, "mapper_configured", propagate=True)
def _members_on_assignment(mapper: Mapper[Any], cls: type[Any]) -> None:
    """A string assigned to a `Named` column becomes its enum member at once (an unknown one is refused),
    so `item.kind.letter` holds before the row has been to the database and back."""
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, Named):
            members = column_type.enum_class
            event.listen(getattr(cls, prop.key), "set",
                         lambda _target, value, _old, _initiator, members=members: value if value is None
                         else members(value), retval=True)


def one_of(column: str, values: type[enum.Enum]) -> CheckConstraint:
    """A CHECK constraint that makes the database refuse any value the enum does not name."""
    listed = ", ".join(f"'{member.value}'" for member in values)  # type: ignore[attr-defined]
    return CheckConstraint(f"{column} IN ({listed})", name=column)
