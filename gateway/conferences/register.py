"""The obstacle register for the expert team and the steering group: the obstacles of every
case's newest outcome counted by code, region, period and party type, nobody named, and every
count from 1 to ``SCHAKEL_REGISTER_MIN_COUNT - 1`` suppressed with its complements
(``suppression``). Open to the parties that take part in case conferences; each query is on
record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from conference.register import (
    DIMENSIONS,
    mentions,
    protected_tables,
    quarters,
    register_table,
    whole_quarters,
)
from gateway.auth.access_tokens import Caller, check_scope
from gateway.conferences.flow import record, refuse
from gateway.conferences.schemas import (
    CONFERENCE_PURPOSE,
    RegisterCount,
    RegisterQuery,
    RegisterView,
)
from gateway.errors import Forbidden, InvalidInput
from gateway.runtime import Runtime
from suppression import Count

REGISTER = Action.CONFERENCE_REGISTER


def obstacle_register(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    caller: Caller,
    query: RegisterQuery,
) -> RegisterView:
    """The counts over ``query.group_by`` for conferences starting within the query's dates."""
    description = (
        f"obstacle register {query.since}..{query.until} by {', '.join(query.group_by)}"
        + (f" in {query.region}" if query.region else "")
    )
    try:
        check_scope(caller, CONFERENCE_PURPOSE)
    except Forbidden as refused:
        raise refuse(
            session, runtime, trace_id, caller, REGISTER, code="conference.register_scope",
            detail=f"{refused.detail}: the register is open to parties of case conferences",
        ) from None  # fmt: skip
    catalogue = runtime.catalogue
    if query.region is not None and query.region not in catalogue.regions:
        detail = f"unknown region {query.region!r}"
        raise InvalidInput(detail, errors=[{"parameter": "query:region", "detail": detail}])
    first, last = whole_quarters(query.since, query.until)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    values = {
        "code": sorted(catalogue.obstacles),
        "region": sorted(catalogue.regions),
        "period": quarters(first, last),
        "domain": sorted(catalogue.domains),
    }
    tables = protected_tables(
        mentions(session=session, since=since, until=until),
        periods=values["period"],
        values=values,
        threshold=runtime.settings.register_min_count,
    )
    table = register_table(tables, group_by=query.group_by, values=values, region=query.region)
    record(session, runtime, trace_id, caller, REGISTER, Outcome.OK, description)

    def shown(count: Count, dimensions: tuple[str, ...]) -> RegisterCount:
        return RegisterCount(
            values=dict(zip(dimensions, count.key, strict=True)),
            count=count.value,
            suppressed=count.suppressed,
        )

    return RegisterView(
        since=first,
        until=last,
        group_by=list(query.group_by),
        threshold=table.threshold,
        cells=[shown(count, table.dimensions) for count in table.cells],
        margins={
            dimension: [shown(count, (dimension,)) for count in counts]
            for dimension, counts in table.margins.items()
        },
        total=shown(table.total, ()),
    )


def register_query(
    runtime: Runtime,
    since: date | None,
    until: date | None,
    group_by: Sequence[str] | None,
    region: str | None,
) -> RegisterQuery:
    """The query parameters as a query, the defaults filled in; a 422 naming the parameter."""
    first, last = default_period(runtime.clock().date())
    try:
        return RegisterQuery.model_validate(
            {
                "since": since or first,
                "until": until or last,
                "group_by": group_by or list(DIMENSIONS),
                "region": region,
            }
        )
    except ValidationError as error:
        errors = [
            {"parameter": f"query:{_parameter(item['loc'])}", "detail": str(item["msg"])}
            for item in error.errors()
        ]
        raise InvalidInput("; ".join(e["detail"] for e in errors), errors=errors) from None


# The query's own names for the fields whose Python names differ from them.
PARAMETERS = {"since": "from", "group_by": "groupBy"}


def _parameter(location: tuple[int | str, ...]) -> str:
    """The query parameter a validation error is about; a rule across fields is about ``until``,
    the field checked against the others."""
    field = str(location[0]) if location else "until"
    return PARAMETERS.get(field, field)


def default_period(today: date) -> tuple[date, date]:
    """The four quarters up to and including today's."""
    first = today.year * 4 + (today.month - 1) // 3 - 3
    return date(first // 4, (first % 4) * 3 + 1, 1), today
