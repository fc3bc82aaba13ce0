"""Request and response models of the conferences area beyond the domain's own
(``conference.schemas``): scheduling, the agenda, answers, a case's view, outcomes, the register."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from bsn import NO_BSN
from conference.schemas import Answer, GivenBy, ObstacleFound, OutcomeDraft, RepresentativeRole
from gateway.core.dates import Day, Moment
from gateway.disclosures.schemas import DisclosedCategory, Name, Withheld
from gateway.identity.subjects import SubjectRef
from gateway.plans.schemas import InvolvementView
from plan.schemas import VISIBLE, Description, ItemView, Title

CONFERENCE_PURPOSE = "case-conference"
CaseId = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


class ConferenceRequest(BaseModel):
    """A chair schedules a conference: its window, the parties invited, the categories consent is
    asked for, and the participants to discuss (each by your pseudonym or BSN)."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    region: Name = Field(description="A region of the catalogue, e.g. holland-rijnland")
    starts_at: Moment = Field(description="In the years 2000 to 2100")
    ends_at: Moment = Field(description="After starts_at, at most 14 days later")
    invited: list[Name] = Field(default_factory=list, max_length=30)
    categories: list[Name] = Field(min_length=1, max_length=16)
    participants: list[SubjectRef] = Field(min_length=1, max_length=25)
    purpose: Name = CONFERENCE_PURPOSE
    role: Name | None = Field(default=None, description="The role you chair in (several held)")


class InvitationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: Name


class CaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef


class RecordedAnswer(BaseModel):
    """An answer given on paper or by a legal representative, recorded by a professional of the
    conference, with its evidence; a yes names all the conference asked unless fewer are named."""

    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    answer: Answer
    given_by: Literal[GivenBy.PROFESSIONAL, GivenBy.REPRESENTATIVE] = GivenBy.PROFESSIONAL
    representative_role: RepresentativeRole | None = None
    evidence_ref: Annotated[
        str, StringConstraints(min_length=1, max_length=500, pattern=VISIBLE), NO_BSN
    ] = Field(description="The signed form")
    parties: list[Name] | None = Field(default=None, max_length=31)
    categories: list[Name] | None = Field(default=None, max_length=16)


class ParticipantAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Answer


class ViewRequest(BaseModel):
    """Name categories to ask for some only; one you may never receive is then refused."""

    model_config = ConfigDict(extra="forbid")

    categories: list[Name] | None = Field(default=None, min_length=1, max_length=16)
    role: Name | None = Field(default=None, description="The role the request is made in")


class AgreedAction(BaseModel):
    """An action agreed in the conference, for the participant's plan, owned by a party of it."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    owner: Name = Field(description="The party that owns the action (the chair or invited)")
    due_date: Day | None = None


class OutcomeRequest(OutcomeDraft):
    actions: list[AgreedAction] = Field(default_factory=list, max_length=20)


class MemberView(BaseModel):
    party: str
    domain: str
    name: str
    chair: bool


class AnswerView(BaseModel):
    conference_id: str
    case_id: str
    version: int
    answer: Answer
    parties: list[str]
    categories: list[str]
    given_by: str
    representative_role: str | None
    evidence_ref: str | None
    recorded_by: str
    answered_at: datetime


class AgendaCase(BaseModel):
    """A case as a party of the conference sees it on the agenda.

    ``by_name`` is true when the participant's consent for this conference names you: then your
    view of the case shows who it is and what was consented; otherwise it is anonymous. The
    chair also sees the answer and, as ``subject``, its own pseudonym of the participant.
    """

    case_id: str
    number: int
    by_name: bool
    answer: AnswerView | None = None
    subject: str | None = None
    outcome_version: int | None = None


class ConferenceView(BaseModel):
    id: str
    purpose: str
    title: str
    region: str
    starts_at: datetime
    ends_at: datetime
    open: bool = Field(description="Whether the window holds now: views are readable")
    parties: list[MemberView]
    categories: list[str]
    cases: list[AgendaCase]


class ConferenceSummary(BaseModel):
    id: str
    title: str
    region: str
    starts_at: datetime
    ends_at: datetime
    chair: str
    open: bool


class CaseHeading(BaseModel):
    conference_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    case_id: str
    number: int


class CaseConferenceView(BaseModel):
    """One case as the policy lets a party see it in the conference: anonymous (no pseudonym, no
    data) unless the participant's consent for this conference names the party."""

    decision_id: str
    purpose: str
    decided_at: datetime
    policy_revision: str
    conference: CaseHeading
    anonymous: bool
    subject: str | None = Field(description="Your domain's pseudonym, when not anonymous")
    goals: list[ItemView] | None
    actions: list[ItemView] | None
    involved: list[InvolvementView] | None
    disclosed: list[DisclosedCategory]
    withheld: list[Withheld]


class OutcomeView(BaseModel):
    conference_id: str
    case_id: str
    version: int
    advice: str
    obstacles: list[ObstacleFound]
    actions: list[ItemView]
    recorded_by: str
    recorded_at: datetime


class SeenBy(BaseModel):
    """A party of a conference and what it would see of you if you say yes (the policy decides)."""

    party: str
    name: str
    chair: bool
    categories: list[str]


class MyConference(BaseModel):
    """A conference you are on the agenda of: who comes, what each may see, your answer."""

    conference_id: str
    title: str
    region: str
    starts_at: datetime
    ends_at: datetime
    open: bool
    over: bool
    asked: list[str] = Field(description="The categories the chair asks you to share")
    parties: list[SeenBy]
    answer: AnswerView | None


class RegisterQuery(BaseModel):
    """Which obstacles to count: conferences starting from ``since`` up to ``until`` (dates)."""

    model_config = ConfigDict(extra="forbid")

    since: Day
    until: Day
    group_by: list[Literal["code", "region", "period", "domain"]]
    region: Name | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RegisterQuery:
        if self.until < self.since:
            raise ValueError("until must not lie before from")
        if (self.until - self.since).days > 5 * 366:
            raise ValueError("count at most five years at a time")
        return self

    @field_validator("group_by")
    @classmethod
    def _each_once(cls, group_by: list[str]) -> list[str]:
        if len(set(group_by)) != len(group_by) or not group_by:
            raise ValueError("groupBy names each of code, region, period, domain at most once")
        return group_by


class RegisterCount(BaseModel):
    """One count: the values it is for, the count (null when suppressed) and why it is withheld."""

    values: dict[str, str]
    count: int | None
    suppressed: Literal["primary", "complementary"] | None


class RegisterView(BaseModel):
    since: date = Field(description="The period counted: the first day of the quarter of `from`")
    until: date = Field(description="… to the last day of the quarter of `until`")
    group_by: list[str]
    threshold: int = Field(description="Counts from 1 to threshold - 1 are suppressed")
    cells: list[RegisterCount]
    margins: dict[str, list[RegisterCount]]
    total: RegisterCount
