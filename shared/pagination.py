"""One page of a long list, the same shape in every service and in the HTTP API."""
from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shared.errors import InvalidInput

MAX_PER_PAGE = 200


def paginate(session: Session, query: Select, page: int = 1, per_page: int = 50,
             *, scalars: bool = True) -> tuple[list, dict]:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput("invalid page", {"page": ["page >= 1"], "per_page": [f"1..{MAX_PER_PAGE}"]})
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars() if scalars else result)
    return items, {"page": page, "per_page": per_page, "total": total,
                   "pages": max(1, -(-total // per_page))}
