"""Request and response models of the plan area: the participant's own plan, partners' items,
the director, and the plan as the policy lets a partner read it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.disclosures.schemas import Name, Withheld
from gateway.identity.subjects import SubjectRef
from plan.schemas import ActionDraft, DirectorView, GoalDraft, ItemView
from plan.schemas import Name as PlanName


class InvolvementView(BaseModel):
    party: str
    domain: str
    purpose: str
    contact: str
    signalled_at: datetime


class OwnPlanView(BaseModel):
    """Everything of the participant's own plan: director, goals, actions, who is involved."""

    director: DirectorView | None
    goals: list[ItemView]
    actions: list[ItemView]
    involved: list[InvolvementView]


class GoalRequest(GoalDraft):
    subject: SubjectRef


class ActionRequest(ActionDraft):
    subject: SubjectRef


class DirectorChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: PlanName = Field(
        description="The party that is to direct your plan, e.g. gemeente-leiden"
    )


class DirectorProposal(BaseModel):
    """Assign a director (yourself by default) or, as the director, hand over to another party."""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    party: PlanName | None = Field(default=None, description="Default: your own party")


class PlanQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    purpose: Name
    role: Name | None = Field(default=None, description="The role the request is made in")


class PlanDisclosure(BaseModel):
    """Only what the policy allows: ``goals``/``actions`` are null when withheld.

    ``involved`` (who signalled involvement, with contact) is given to the director only.
    """

    decision_id: str
    purpose: str
    decided_at: datetime
    policy_revision: str
    subject: str | None
    director: DirectorView | None
    goals: list[ItemView] | None
    actions: list[ItemView] | None
    involved: list[InvolvementView] | None
    withheld: list[Withheld]
