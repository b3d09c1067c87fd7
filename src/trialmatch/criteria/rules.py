"""The rule tree a criterion compiles to: ``all`` / ``any`` / ``not`` nodes over typed leaves.

Every node serialises to JSON with a ``kind`` tag and keeps ``span``, its ``[start, end)`` offsets in
the trial's criteria text. Leaves say what must be true of the patient; whether a criterion includes or
excludes is the criterion's ``section``, not part of its rule. Text the compiler could not read becomes a
``question`` leaf, which only an answer can settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Comparator = Literal["<", "<=", ">", ">=", "="]
TimeUnit = Literal["hours", "days", "weeks", "months", "years"]

#: Days per unit, for windows and ages (a month is 30.44 days, a year 365.25).
DAYS_PER_UNIT: dict[str, float] = {"hours": 1 / 24, "days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Duration(_Model):
    """A length of time as the text gave it: ``12 weeks``, ``30 days``."""

    value: float
    unit: TimeUnit

    def in_days(self) -> float:
        return self.value * DAYS_PER_UNIT[self.unit]

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number} {self.unit[:-1] if self.value == 1 else self.unit}"


class RuleException(_Model):
    """A stated exception: what the criterion does not count, with its source text.

    ``concepts``: the therapies or conditions exempted. ``ended_before``: they are exempt only if they
    ended longer ago than this. ``complete`` is False when the text says more than the compiler read
    ("with certain exceptions"): then a fact the exception might cover can't settle the rule.
    """

    text: str
    span: tuple[int, int]
    concepts: tuple[str, ...] = ()
    ended_before: Duration | None = None
    complete: bool = True


class _Node(_Model):
    span: tuple[int, int] | None = None


class AllOf(_Node):
    kind: Literal["all"] = "all"
    children: tuple[Rule, ...]


class AnyOf(_Node):
    kind: Literal["any"] = "any"
    children: tuple[Rule, ...]


class Not(_Node):
    kind: Literal["not"] = "not"
    child: Rule


class Age(_Node):
    """The patient's age compared with a limit, today (the default) or at diagnosis."""

    kind: Literal["age"] = "age"
    comparator: Comparator
    value: float
    unit: TimeUnit = "years"
    at: Literal["today", "diagnosis"] = "today"

    def in_days(self) -> float:
        return self.value * DAYS_PER_UNIT[self.unit]


class Sex(_Node):
    kind: Literal["sex"] = "sex"
    sex: Literal["female", "male"]


class Qualifier(_Model):
    """A detail of a condition: ``relapse_number >= 2``, ``philadelphia = positive``, ``cd19 = positive``."""

    name: str
    comparator: Comparator = "="
    value: str | float | bool


class Condition(_Node):
    """A condition (disease, disease state or comorbidity) the patient has, with qualifiers.

    ``status``: ``active`` (now), ``history`` (ever had, including now) or ``any``. ``within``: only
    diagnoses in that window count ("another cancer within 5 years"). ``qualifiers`` all hold together.

    ``qualifiers`` named ``judgement`` (value uncontrolled, poorly_controlled, clinically_significant,
    clinically_relevant, serious, severe, unstable, symptomatic, major, intercurrent, life_threatening) are the
    investigator's judgement ("uncontrolled hypertension"): the matcher counts one as met only when the
    patient's fact carries it, so a patient without the condition is settled and one with it is asked. ``grade``
    (with a comparator) is a CTCAE grade ("Grade >= 2 peripheral neuropathy"). ``requires_treatment`` /
    ``requires_systemic_treatment``: the condition needs (systemic) treatment.

    ``concept == "disease_under_study"``: the criterion names a state but no disease ("Second or later
    bone marrow relapse" under "B-ALL with any of the following"); the matcher reads it as the trial's
    own conditions. ``other_malignancy`` likewise means a cancer other than the trial's.
    """

    kind: Literal["condition"] = "condition"
    concept: str
    name: str
    status: Literal["active", "history", "any"] = "any"
    qualifiers: tuple[Qualifier, ...] = ()
    within: Duration | None = None
    exceptions: tuple[RuleException, ...] = ()


class Lab(_Node):
    """A lab value or measure against a threshold.

    ``reference``: ``absolute`` compares ``value`` in ``unit``; ``uln`` / ``lln`` compares the result as a
    multiple of the upper / lower limit of normal (the patient's reference range, else a documented
    default). ``assay_sensitivity`` is the minimum sensitivity the text asks of the assay (MRD).
    """

    kind: Literal["lab"] = "lab"
    analyte: str
    name: str
    comparator: Comparator
    value: float
    unit: str | None = None
    reference: Literal["absolute", "uln", "lln"] = "absolute"
    assay_sensitivity: float | None = None
    exceptions: tuple[RuleException, ...] = ()


class Performance(_Node):
    """Performance status on the ECOG, Karnofsky or Lansky scale (converted between scales by data)."""

    kind: Literal["performance"] = "performance"
    scale: Literal["ecog", "karnofsky", "lansky"]
    comparator: Comparator
    value: float


class Therapy(_Node):
    """A therapy, procedure or transplant the patient had.

    ``timing``: ``within`` (ended or given inside ``window`` before the study's start, or ongoing), ``ever``
    (at any time, including now), or ``current`` (ongoing). ``exceptions`` name therapies that do not count.
    ``condition``: only the therapy given for this condition counts ("prior radiotherapy for lymphoma");
    ``disease_under_study`` means the trial's own disease ("prior therapy for their disease").
    """

    kind: Literal["therapy"] = "therapy"
    concept: str
    name: str
    timing: Literal["within", "ever", "current"]
    window: Duration | None = None
    exceptions: tuple[RuleException, ...] = ()
    condition: str | None = None
    condition_name: str | None = None


class PriorLines(_Node):
    """How many lines (regimens) of therapy the patient had before, against a count: "at least 2 prior lines of
    therapy", "no more than 3 prior chemotherapy regimens for metastatic disease". A line and a regimen count alike.

    ``therapy``: the concept of the kind of line counted ("chemotherapy"); None counts every line. ``condition``:
    the concept of the disease the lines treated ("multiple myeloma"), if named. ``setting``: the disease stage
    they were given in ("metastatic", "advanced"), if named. A count of some lines can't be more than the count
    of all lines, so a count of all lines can settle a rule about some.
    """

    kind: Literal["prior_lines"] = "prior_lines"
    comparator: Comparator
    value: int
    therapy: str | None = None
    therapy_name: str | None = None
    condition: str | None = None
    condition_name: str | None = None
    setting: str | None = None


class Pregnancy(_Node):
    """The patient is pregnant (a positive pregnancy test counts).

    False for males and for females who cannot become pregnant, so "negative pregnancy test in women of
    childbearing potential" is simply ``not pregnancy``. ``planned``: also true when the patient plans to
    become pregnant during the study or the time after it that the criterion names.
    """

    kind: Literal["pregnancy"] = "pregnancy"
    planned: bool = False


class Breastfeeding(_Node):
    """The patient is breastfeeding; false for males. ``planned``: also true when she plans to breastfeed
    during the study or the time after it that the criterion names."""

    kind: Literal["breastfeeding"] = "breastfeeding"
    planned: bool = False


class Contraception(_Node):
    """Willing to use effective contraception; applies only to the people it names."""

    kind: Literal["contraception"] = "contraception"
    applies_to: Literal["female", "male", "childbearing_potential", "any"] = "any"


class Consent(_Node):
    """Able and willing to take part as the study asks, by the patient's own say (or, where the trial allows, a
    parent's, guardian's or legal representative's).

    ``aspect``: ``informed_consent``: to give (written) informed consent, or a child's assent ("Signed informed
    consent", "Ability to understand and the willingness to sign a written informed consent document");
    ``comply``: to come to the study visits and follow the study's procedures ("Willing and able to comply with
    scheduled visits, treatment plans, laboratory tests, and other study procedures"). An exclusion of those
    "unable or unwilling to comply with the protocol" is ``not`` comply. Only the patient's fact or answer settles it.
    """

    kind: Literal["consent"] = "consent"
    aspect: Literal["informed_consent", "comply"]


class Infection(_Node):
    """An infection the patient has (``status``: active, chronic or any), with qualifiers like a Condition's:
    ``judgement`` ("uncontrolled infection": met only when the patient's fact carries it, so a clinician
    answers), ``requires_systemic_treatment`` / ``requires_intravenous_treatment`` / ``requires_treatment``
    ("active infection requiring systemic therapy"). ``within``: an infection in that window counts ("serious
    infection within 4 weeks before the first dose")."""

    kind: Literal["infection"] = "infection"
    concept: str
    name: str
    status: Literal["active", "chronic", "any"] = "any"
    qualifiers: tuple[Qualifier, ...] = ()
    within: Duration | None = None


class Hypersensitivity(_Node):
    """Known allergy or hypersensitivity to a drug (and, if said, to its components).

    ``severe``: only a severe reaction counts ("history of severe allergic reaction to X", anaphylaxis).
    """

    kind: Literal["hypersensitivity"] = "hypersensitivity"
    concept: str
    name: str
    components: bool = False
    severe: bool = False


class StudyEnrolment(_Node):
    """Taking part in another interventional study now, or within ``window``.

    ``window`` None: taking part now. A window: now, or treatment in a study that ended inside the window.
    """

    kind: Literal["study_enrolment"] = "study_enrolment"
    window: Duration | None = None


class Question(_Node):
    """Text the compiler could not turn into a rule; only the patient's or clinician's answer settles it."""

    kind: Literal["question"] = "question"
    text: str


Rule = Annotated[
    AllOf | AnyOf | Not | Age | Sex | Condition | Lab | Performance | Therapy | PriorLines | Pregnancy | Breastfeeding
    | Contraception | Consent | Infection | Hypersensitivity | StudyEnrolment | Question,
    Field(discriminator="kind"),
]
Leaf = (Age | Sex | Condition | Lab | Performance | Therapy | PriorLines | Pregnancy | Breastfeeding | Contraception
        | Consent | Infection | Hypersensitivity | StudyEnrolment | Question)

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


def leaves(rule: Rule) -> Iterator[Leaf]:
    """Every leaf of ``rule``, in order."""
    if isinstance(rule, AllOf | AnyOf):
        for child in rule.children:
            yield from leaves(child)
    elif isinstance(rule, Not):
        yield from leaves(rule.child)
    else:
        yield rule


def is_computable(rule: Rule) -> bool:
    """True when no part of the rule is a question."""
    return not any(isinstance(leaf, Question) for leaf in leaves(rule))
