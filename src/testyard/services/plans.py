"""Plans: an ordered set of cases, how to run them, and an optional trigger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from testyard.db.models import Case, Plan, PlanCase, Project
from testyard.scheduling.triggers import TriggerError, TriggerSpec, build_trigger, zone
from testyard.services import channels, names
from testyard.services.environments import find_environment
from testyard.services.errors import Conflict, Invalid, not_found, possible_id
from testyard.services.pages import Page, order_by, paginate

SETTINGS = {
    "description",
    "workers",
    "dist",
    "retries",
    "timeout_s",
    "mode",
    "deadline_s",
    "on_overlap",
    "enabled",
    "notify",
}
ORDERABLE = {"id", "name", "created_at", "updated_at"}


def list_plans(
    session: Session,
    project: Project,
    *,
    name: str | None = None,
    page: int = 1,
    per_page: int = 50,
    order: str | None = None,
) -> Page[Plan]:
    query: Select[Plan] = select(Plan).where(Plan.project_id == project.id)
    if name:
        query = query.where(Plan.name.icontains(name, autoescape=True))
    return paginate(session, order_by(query, Plan, order, ORDERABLE), page=page, per_page=per_page)


def get_plan(session: Session, project: Project, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None or plan.project_id != project.id:
        raise not_found("plan", plan_id)
    return plan


def create_plan(session: Session, project: Project, fields: dict[str, Any]) -> Plan:
    plan = Plan(project_id=project.id)
    _apply(session, project, plan, fields, creating=True)
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan: Plan, fields: dict[str, Any]) -> Plan:
    project = session.get_one(Project, plan.project_id)
    _apply(session, project, plan, fields, creating=False)
    session.flush()
    return plan


def delete_plan(session: Session, plan: Plan) -> None:
    session.delete(plan)
    session.flush()


def _apply(
    session: Session, project: Project, plan: Plan, fields: dict[str, Any], *, creating: bool
) -> None:
    """Validate everything first, then write: nothing is half-saved on an error."""
    if creating or "name" in fields:
        name = names.display_name(fields.get("name", ""))
        other = session.scalar(
            select(Plan.id).where(Plan.project_id == project.id, Plan.name == name)
        )
        if other is not None and other != plan.id:
            raise Conflict(f"a plan named {name!r} already exists", field="name")
        plan.name = name
    case_ids = fields.get("case_ids")
    if case_ids is not None:
        _check_cases(session, project, case_ids)
    if "environment" in fields:
        env = fields["environment"]
        # Through the relationship, so an already loaded ``plan.environment`` follows.
        plan.environment = find_environment(session, project, env) if env else None
    if "trigger" in fields and fields["trigger"] is not None:
        _apply_trigger(plan, fields["trigger"])
    if fields.get("notify"):
        channels.check_channel_ids(session, project, fields["notify"].get("channel_ids") or [])
    for key in SETTINGS & fields.keys():
        setattr(plan, key, fields[key])
    if plan.mode == "staged" and plan.trigger_kind not in ("none", "interval"):
        raise Invalid("a staged plan polls on an interval trigger", field="trigger.kind")
    if case_ids is not None:
        set_cases(plan, case_ids)


def _apply_trigger(plan: Plan, trigger: dict[str, Any]) -> None:
    spec = TriggerSpec(
        kind=trigger.get("kind") or "none",
        expression=trigger.get("expression"),
        seconds=trigger.get("seconds"),
        at=trigger.get("at"),
        timezone=trigger.get("timezone"),
    )
    try:
        build_trigger(spec)
    except TriggerError as exc:
        raise Invalid(str(exc), field=exc.field) from exc
    plan.trigger_kind = spec.kind
    plan.trigger_expression = " ".join(spec.expression.split()) if spec.expression else None
    plan.trigger_seconds = spec.seconds
    # A time without an offset is a time in the trigger's zone, as build_trigger read it.
    at = spec.at
    plan.trigger_at = at.replace(tzinfo=zone(spec.timezone)) if at and not at.tzinfo else at
    plan.trigger_timezone = spec.timezone


def _check_cases(session: Session, project: Project, case_ids: list[int]) -> None:
    if len(set(case_ids)) != len(case_ids):
        raise Invalid("a case appears twice in the plan", field="case_ids")
    possible = [cid for cid in case_ids if possible_id(cid)]
    found = set(
        session.scalars(select(Case.id).where(Case.project_id == project.id, Case.id.in_(possible)))
    )
    missing = [cid for cid in case_ids if cid not in found]
    if missing:
        raise Invalid(f"unknown case ids {missing}", field="case_ids")


def set_cases(plan: Plan, case_ids: list[int]) -> None:
    """Make ``case_ids`` the plan's ordered cases, keeping rows that stay."""
    rows = {entry.case_id: entry for entry in plan.entries}
    plan.entries = [rows.get(cid) or PlanCase(case_id=cid, position=0) for cid in case_ids]
    for position, entry in enumerate(plan.entries):
        entry.position = position


def add_cases(
    session: Session, plan: Plan, case_ids: list[int], position: int | None = None
) -> Plan:
    current = [entry.case_id for entry in plan.entries]
    project = session.get_one(Project, plan.project_id)
    _check_cases(session, project, current + case_ids)
    at = len(current) if position is None else max(0, min(position, len(current)))
    set_cases(plan, current[:at] + case_ids + current[at:])
    session.flush()
    return plan


def remove_case(session: Session, plan: Plan, case_id: int) -> Plan:
    current = [entry.case_id for entry in plan.entries]
    if case_id not in current:
        raise not_found("case in this plan", case_id)
    set_cases(plan, [cid for cid in current if cid != case_id])
    session.flush()
    return plan


def reorder_cases(session: Session, plan: Plan, case_ids: list[int]) -> Plan:
    current = [entry.case_id for entry in plan.entries]
    if sorted(current) != sorted(case_ids):
        raise Invalid("a reorder must list exactly the plan's cases", field="case_ids")
    set_cases(plan, case_ids)
    session.flush()
    return plan


def case_ids(plan: Plan) -> list[int]:
    return [entry.case_id for entry in plan.entries]
