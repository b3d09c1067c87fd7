"""Therapies, procedures, transplants, washout windows, other studies and hypersensitivity.

The first examples are the seed trials' criteria; the table quotes real wordings from the legacy corpora.
"""

from __future__ import annotations

import pytest

from trialmatch.criteria.compiler import CompiledCriterion, compile_criteria
from trialmatch.criteria.passage import Passage
from trialmatch.criteria.recognisers import therapies
from trialmatch.criteria.rules import (
    AllOf,
    AnyOf,
    Hypersensitivity,
    Not,
    Question,
    Rule,
    StudyEnrolment,
    Therapy,
    leaves,
)

_HEADS = {
    "exclusion": "Inclusion Criteria:\n\n* Aged 18 years or older\n\nExclusion Criteria:\n\n",
    "inclusion": "Inclusion Criteria:\n\n",
}


def compiled(item: str, section: str = "exclusion") -> tuple[str, CompiledCriterion]:
    text = f"{_HEADS[section]}* {item}\n"
    criteria = [c for c in compile_criteria(text).criteria if c.section == section]
    return text, criteria[-1]


def shape(rule: Rule) -> object:
    """The rule without spans and names, as nested tuples."""
    if isinstance(rule, Therapy):
        return ("therapy", rule.concept, rule.timing, str(rule.window) if rule.window else None,
                tuple(e.concepts for e in rule.exceptions))
    if isinstance(rule, StudyEnrolment):
        return ("study", str(rule.window) if rule.window else None)
    if isinstance(rule, Hypersensitivity):
        return ("hypersensitivity", rule.concept, rule.components, rule.severe)
    if isinstance(rule, Not):
        return ("not", shape(rule.child))
    if isinstance(rule, AllOf | AnyOf):
        return (rule.kind, *(shape(c) for c in rule.children))
    if isinstance(rule, Question):
        return "question"
    return rule.kind


def therapy(concept: str, timing: str = "within", window: str | None = None, *exceptions: tuple[str, ...]) -> tuple:
    return ("therapy", concept, timing, window, tuple(exceptions))


def span_text(text: str, rule: Rule) -> str:
    assert rule.span is not None
    return text[rule.span[0] : rule.span[1]]


# --- The seed trials -----------------------------------------------------------------------------------------

def test_radiotherapy_within_two_weeks_of_protocol_therapy() -> None:
    text, criterion = compiled("Radiotherapy within 2 weeks prior to start of protocol-specified therapy.")
    assert shape(criterion.rule) == therapy("radiotherapy", "within", "2 weeks")
    assert criterion.category == "washout"
    assert criterion.computable
    assert span_text(text, criterion.rule) == "Radiotherapy within 2 weeks prior to start of protocol-specified therapy"
    assert criterion.rule.name == "Radiotherapy"  # type: ignore[union-attr]


@pytest.mark.parametrize("item", [
    "AlloHSCT within 12 weeks prior to start of protocol-specified therapy.",
    "Allogeneic HSCT within 12 weeks before the start of protocol-specified therapy",
])
def test_allogeneic_hsct_within_twelve_weeks(item: str) -> None:
    text, criterion = compiled(item)
    assert shape(criterion.rule) == therapy("allogeneic_hsct", "within", "12 weeks")
    assert criterion.category == "washout" and criterion.computable
    assert span_text(text, criterion.rule) == item.rstrip(".")


def test_autologous_hsct_abbreviation_is_read_with_it() -> None:
    item = "Autologous hematopoietic stem cell transplantation (HSCT) within six weeks prior to study treatment"
    text, criterion = compiled(item)
    assert shape(criterion.rule) == therapy("autologous_hsct", "within", "6 weeks")
    assert criterion.computable
    assert span_text(text, criterion.rule) == item


def test_immunotherapy_with_example_and_cd19_exception_sentence() -> None:
    item = ("Immunotherapy within 4 weeks before start of protocol-specified therapy. Prior failed CD19 directed "
            "therapy such as prior blinatumomab or CD19 CAR T cells will be allowed, if treatment ended more than "
            "4 weeks prior to start of protocol therapy")
    text, criterion = compiled(item)
    rule = criterion.rule
    assert isinstance(rule, Therapy)
    assert (rule.concept, rule.timing, str(rule.window)) == ("immunotherapy", "within", "4 weeks")
    assert span_text(text, rule) == "Immunotherapy within 4 weeks before start of protocol-specified therapy"
    (exception,) = rule.exceptions
    assert set(exception.concepts) == {"cd19_directed_therapy", "blinatumomab", "car_t_cell_therapy"}
    assert str(exception.ended_before) == "4 weeks" and exception.complete
    assert criterion.computable and criterion.category == "washout"


def test_immunotherapy_example_in_parenthesis_and_conditional_exception() -> None:
    item = ("Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy. Prior failed "
            "cluster of differentiation 19 (CD19) directed therapy such as prior blinatumomab or CD19 chimeric antigen "
            "receptor T cells (CAR T cell) will be allowed (with demonstrated continued CD19+ expression) if treatment "
            "ended > 4 weeks prior to start of protocol-specified therapy.")
    text, criterion = compiled(item)
    rule = criterion.rule
    assert isinstance(rule, Therapy)
    assert (rule.concept, rule.timing, str(rule.window)) == ("immunotherapy", "within", "4 weeks")
    assert span_text(text, rule) == ("Immunotherapy (eg, rituximab) within 4 weeks prior to start of "
                                     "protocol-specified therapy")
    (exception,) = rule.exceptions
    assert {"cd19_directed_therapy", "blinatumomab", "car_t_cell_therapy"} <= set(exception.concepts)
    assert str(exception.ended_before) == "4 weeks"
    # The exemption holds only "with demonstrated continued CD19+ expression", which no exception can say.
    assert not exception.complete and not criterion.computable


def test_cancer_chemotherapy_with_maintenance_exceptions() -> None:
    item = ("Cancer chemotherapy within 2 weeks before the start of protocol-specified therapy. With the exception of "
            "intrathecal chemotherapy and/or low dose maintenance therapy for example vinca alkaloids, mercaptopurine, "
            "methotrexate, or hydroxyurea or pre-phase chemotherapy and/or dexamethasone. Any low dose chemotherapy as "
            "stated above must be discontinued before starting pre-phase.")
    text, criterion = compiled(item)
    chemo = next(leaf for leaf in leaves(criterion.rule) if isinstance(leaf, Therapy))
    assert (chemo.concept, chemo.timing, str(chemo.window)) == ("chemotherapy", "within", "2 weeks")
    assert span_text(text, chemo) == "Cancer chemotherapy within 2 weeks before the start of protocol-specified therapy"
    (exception,) = chemo.exceptions
    assert set(exception.concepts) >= {"intrathecal_chemotherapy", "maintenance_chemotherapy", "vinca_alkaloid",
                                       "mercaptopurine", "methotrexate", "hydroxyurea", "prephase_chemotherapy"}
    assert exception.complete
    # The last sentence (stop low-dose chemotherapy before pre-phase) is a further requirement: a question.
    assert not criterion.computable


def test_systemic_chemotherapy_except_intrathecal_prophylaxis() -> None:
    item = "Systemic cancer chemotherapy within 2 weeks prior to study treatment (except for intrathecal prophylaxis)"
    text, criterion = compiled(item)
    assert shape(criterion.rule) == therapy("chemotherapy", "within", "2 weeks", ("intrathecal_chemotherapy",))
    assert criterion.computable
    assert span_text(text, criterion.rule) == "Systemic cancer chemotherapy within 2 weeks prior to study treatment"


def test_systemic_chemotherapy_does_not_count_intrathecal() -> None:
    _, criterion = compiled("Systemic chemotherapy within 2 weeks")
    assert shape(criterion.rule) == therapy("chemotherapy", "within", "2 weeks", ("intrathecal_chemotherapy",))
    assert criterion.computable


@pytest.mark.parametrize(("item", "expected"), [
    ("Have had a stem cell transplant using donor cells in the past", therapy("allogeneic_hsct", "ever")),
    ("Have had a stem cell transplant using your own cells in the last 6 weeks",
     therapy("autologous_hsct", "within", "6 weeks")),
    ("Have had treatment with monoclonal antibodies eg rituximab and alemtuzumab in the last 4 weeks",
     therapy("monoclonal_antibody", "within", "4 weeks")),
    ("Have had chemotherapy in the last 2 weeks", therapy("chemotherapy", "within", "2 weeks")),
    ("Have had radiotherapy in the last 4 weeks", therapy("radiotherapy", "within", "4 weeks")),
    ("Therapy with monoclonal antibodies (rituximab, alemtuzumab) within 4 weeks prior to study treatment",
     therapy("monoclonal_antibody", "within", "4 weeks")),
])
def test_lay_and_example_wordings(item: str, expected: tuple) -> None:
    text, criterion = compiled(item)
    assert shape(criterion.rule) == expected
    assert criterion.computable
    assert span_text(text, criterion.rule) == item
    assert criterion.category == ("prior_therapy" if expected[2] == "ever" else "washout")


@pytest.mark.parametrize(("item", "expected", "read"), [
    ("Currently receiving treatment in, or less than 30 days since ending treatment on another investigational "
     "study(ies)", ("study", "30 days"), None),
    ("Have had any treatment in a trial in the last 4 weeks", ("study", "4 weeks"), None),
    ("participation in another clinical trial within 30 days", ("study", "30 days"), None),
    ("Treatment with any investigational product within 4 weeks prior to study treatment",
     therapy("investigational_agent", "within", "4 weeks"), None),
])
def test_other_studies(item: str, expected: tuple, read: str | None) -> None:
    text, criterion = compiled(item)
    assert shape(criterion.rule) == expected
    assert criterion.category == "other_study" and criterion.computable
    assert span_text(text, criterion.rule) == (read or item)


def test_current_or_recent_study_keeps_the_future_sentence_as_question() -> None:
    item = ("Currently receiving treatment in another investigational device or drug study, or less than 4 weeks "
            "since ending treatment on another investigational device or drug study(ies). Other investigational "
            "procedures while participating in this study are excluded.")
    text, criterion = compiled(item)
    study, question = criterion.rule.children  # type: ignore[union-attr]
    assert shape(study) == ("study", "4 weeks")
    assert span_text(text, study) == item.split(". ")[0]
    assert isinstance(question, Question)
    assert criterion.category == "other_study" and not criterion.computable


def test_half_lives_alternative_is_not_dropped() -> None:
    item = "received an investigational drug within 4 weeks or 5 half-lives, whichever is longer"
    _, criterion = compiled(item)
    # The unread "or 5 half-lives" is one more alternative: within 4 weeks excludes, outside it only asks.
    assert shape(criterion.rule) == ("any", therapy("investigational_agent", "within", "4 weeks"), "question")
    assert not criterion.computable


def test_hypersensitivity_to_drug_and_its_formulation() -> None:
    item = ("Known hypersensitivity to blinatumomab or any of the products or components of the blinatumomab "
            "formulation.")
    text, criterion = compiled(item)
    assert shape(criterion.rule) == ("hypersensitivity", "blinatumomab", True, False)
    assert criterion.category == "hypersensitivity" and criterion.computable
    assert span_text(text, criterion.rule) == item.rstrip(".")


def test_hypersensitivity_to_the_study_drug_stays_a_question() -> None:
    item = "Known hypersensitivity to immunoglobulin or to any other component of the study drug formulation"
    text, criterion = compiled(item)
    # "or to any other component": an allergy to another component also excludes, so no allergy to
    # immunoglobulin settles nothing.
    assert shape(criterion.rule) == ("any", ("hypersensitivity", "immunoglobulin", False, False), "question")
    assert span_text(text, criterion.rule.children[0]) == "Known hypersensitivity to immunoglobulin"  # type: ignore[union-attr]
    assert not criterion.computable


def test_allergic_to_either_drug() -> None:
    text, criterion = compiled("Know you are allergic to blinatumomab or immunoglobulin")
    assert shape(criterion.rule) == ("any", ("hypersensitivity", "blinatumomab", False, False),
                                     ("hypersensitivity", "immunoglobulin", False, False))
    assert [span_text(text, leaf) for leaf in leaves(criterion.rule)] == ["blinatumomab", "immunoglobulin"]
    assert criterion.computable and criterion.category == "hypersensitivity"


@pytest.mark.parametrize(("item", "expected"), [
    ("history of severe allergic reaction to rituximab", ("hypersensitivity", "rituximab", False, True)),
    ("known allergy to rituximab", ("hypersensitivity", "rituximab", False, False)),
    # An exclusion that opens with "No" is a double negative: the allergy excludes.
    ("No known hypersensitivity to dasatinib", ("hypersensitivity", "dasatinib", False, False)),
])
def test_allergy_wordings(item: str, expected: tuple) -> None:
    _, criterion = compiled(item)
    assert shape(criterion.rule) == expected
    # A negation inside an exclusion is a likely double negative: read, but never decisive alone.
    assert criterion.computable == (expected[0] != "not")


# --- Inclusion wordings: waits, "no prior", lists ---------------------------------------------------------------

@pytest.mark.parametrize(("item", "expected", "category"), [
    ("At least 4 weeks since prior chemotherapy", ("not", therapy("chemotherapy", "within", "4 weeks")), "washout"),
    ("At least 28 days must have elapsed since prior radiotherapy.",
     ("not", therapy("radiotherapy", "within", "28 days")), "washout"),
    ("At least three weeks from completion of irradiation",
     ("not", therapy("radiotherapy", "within", "3 weeks")), "washout"),
    ("All anti-tumor therapy discontinued at least 3 weeks prior to study entry",
     ("not", therapy("anticancer_therapy", "within", "3 weeks")), "washout"),
    ("Prior radiation therapy must be completed at least 30 days prior to being registered for protocol therapy.",
     ("not", therapy("radiotherapy", "within", "30 days")), "washout"),
    ("At least 24 hours since prior hydroxyurea", ("not", therapy("hydroxyurea", "within", "24 hours")), "washout"),
    ("At least 4 weeks since prior and no other concurrent investigational drugs",
     ("all", ("not", therapy("investigational_agent", "within", "4 weeks")),
      ("not", therapy("investigational_agent", "current"))), "other_study"),
    ("At least 30 days since treatment with other experimental drugs or other anticancer therapy, or treatment in "
     "another clinical trial",
     ("not", ("any", therapy("investigational_agent", "within", "30 days"),
              therapy("anticancer_therapy", "within", "30 days"), ("study", "30 days"))), "washout"),
    ("No prior chemotherapy", ("not", therapy("chemotherapy", "ever")), "prior_therapy"),
    ("No prior allogeneic stem cell transplantation", ("not", therapy("allogeneic_hsct", "ever")), "prior_therapy"),
    ("No other concurrent investigational agents", ("not", therapy("investigational_agent", "current")),
     "other_study"),
    ("No major surgery within 28 days prior to treatment; no minor surgery within 5 days prior to treatment",
     ("all", ("not", therapy("major_surgery", "within", "28 days")),
      ("not", therapy("minor_surgery", "within", "5 days"))), "washout"),
    ("Must have received prior chemotherapy", therapy("chemotherapy", "ever"), "prior_therapy"),
    # "and" in an inclusion asks for both, but "no … and …" rules out either.
    ("Prior chemotherapy and radiotherapy",
     ("all", therapy("chemotherapy", "ever"), therapy("radiotherapy", "ever")), "prior_therapy"),
    ("No prior chemotherapy and radiotherapy",
     ("not", ("any", therapy("chemotherapy", "ever"), therapy("radiotherapy", "ever"))), "prior_therapy"),
])
def test_inclusion_wordings(item: str, expected: tuple, category: str) -> None:
    _, criterion = compiled(item, "inclusion")
    assert shape(criterion.rule) == expected
    assert criterion.category == category
    assert criterion.computable


def test_wait_is_read_only_in_an_inclusion() -> None:
    # As an exclusion, "at least 4 weeks since …" would exclude those who waited: nothing clear to read.
    _, criterion = compiled("At least 4 weeks since prior radiotherapy")
    assert not any(isinstance(leaf, Therapy) for leaf in leaves(criterion.rule))


def test_wait_span_covers_the_phrase() -> None:
    text, criterion = compiled("At least 4 weeks since prior radiotherapy and recovered", "inclusion")
    wait = criterion.rule.children[0]  # type: ignore[union-attr]
    assert span_text(text, wait) == "At least 4 weeks since prior radiotherapy"
    # "and recovered" after the wait: no side effect of that therapy is left (read by the recovery recogniser)
    recovered = criterion.rule.children[1]  # type: ignore[union-attr]
    assert isinstance(recovered, Not) and recovered.child.concept == "prior_therapy_toxicity"  # type: ignore[attr-defined]
    assert span_text(text, recovered) == "and recovered"


# --- Real wordings from the corpora (exclusions) --------------------------------------------------------------

_CORPUS: list[tuple[str, object, str]] = [
    ("Allergy to rapamycin", ("hypersensitivity", "sirolimus", False, False), "hypersensitivity"),
    ("Hypersensitivity to pembrolizumab, imatinib, or any of its excipients",
     ("any", ("hypersensitivity", "pembrolizumab", True, False), ("hypersensitivity", "imatinib", True, False)),
     "hypersensitivity"),
    ("History of severe allergic or anaphylactic reactions to monoclonal antibody therapy",
     ("hypersensitivity", "monoclonal_antibody", False, True), "hypersensitivity"),
    ("Concomitant steroid or other immunosuppressive therapy.",
     ("any", therapy("corticosteroid", "current"), therapy("immunosuppressive_therapy", "current")),
     "current_therapy"),
    ("Received any investigational agent within 30 days prior to Day 1",
     therapy("investigational_agent", "within", "30 days"), "other_study"),
    ("Simultaneous participation in other interventional studies", ("study", None), "other_study"),
    ("Subject is currently participating in another clinical trial", ("study", None), "other_study"),
    ("Participation in another investigational drug or device study within 1 month prior to Screening",
     ("study", "1 month"), "other_study"),
    ("Receipt of an investigational drug or participation in another clinical research study within 90 days prior to "
     "drug administration.",
     ("any", therapy("investigational_agent", "within", "90 days"), ("study", "90 days")), "other_study"),
    ("Concurrent treatment with an investigational agent or participation in another clinical trial",
     ("any", therapy("investigational_agent", "current"), ("study", None)), "other_study"),
    ("Participation in another clinical trial within 30 days before study start or during the trial",
     ("study", "30 days"), "other_study"),
    ("Participation in another clinical trial in last 3 months prior to Screening", ("study", "3 months"),
     "other_study"),
    ("Been involved in another clinical trial during the last 3 months", ("study", "3 months"), "other_study"),
    ("Exposure to any investigational agent in the 30 days prior to randomization.",
     therapy("investigational_agent", "within", "30 days"), "other_study"),
    ("Received an IMP within the 12 weeks before Visit 1.", therapy("investigational_agent", "within", "12 weeks"),
     "other_study"),
    ("Patients who have received a prior solid organ transplantation are not eligible",
     therapy("organ_transplant", "ever"), "prior_therapy"),
    ("History of organ transplantation", therapy("organ_transplant", "ever"), "prior_therapy"),
    ("Subject who had previously received allogeneic stem cell transplantation.",
     therapy("allogeneic_hsct", "ever"), "prior_therapy"),
    ("Prior allogeneic stem-cell transplantation (SCT)", therapy("allogeneic_hsct", "ever"), "prior_therapy"),
    ("Has received prior therapy with imatinib or another tyrosine kinase inhibitor",
     ("any", therapy("imatinib", "ever"), therapy("tyrosine_kinase_inhibitor", "ever")), "prior_therapy"),
    ("Major surgery or radiotherapy within 14 days before the first dose of study drug",
     ("any", therapy("major_surgery", "within", "14 days"), therapy("radiotherapy", "within", "14 days")),
     "washout"),
    ("Any major surgery, radiotherapy, or immunotherapy within the last 21 days.",
     ("any", therapy("major_surgery", "within", "21 days"), therapy("radiotherapy", "within", "21 days"),
      therapy("immunotherapy", "within", "21 days")), "washout"),
    ("Major surgery within 28 days or minor surgery within 7days of study enrollment",
     ("any", therapy("major_surgery", "within", "28 days"), therapy("minor_surgery", "within", "7 days")),
     "washout"),
    ("Concurrent treatment with other anti-cancer agents other than dexamethasone.",
     therapy("anticancer_therapy", "current", None, ("dexamethasone",)), "current_therapy"),
    ("Has received a live vaccine within 30 days prior to the first dose of trial treatment.",
     therapy("live_vaccine", "within", "30 days"), "washout"),
    ("Live vaccine within 3 months of study entry", therapy("live_vaccine", "within", "3 months"), "washout"),
    ("Subjects who have received chemotherapy within 12 months prior to study entry.",
     therapy("chemotherapy", "within", "12 months"), "washout"),
    ("Treatment with any chemotherapy or biologic therapy within 4 weeks prior to enrollment",
     ("any", therapy("chemotherapy", "within", "4 weeks"), therapy("immunotherapy", "within", "4 weeks")),
     "washout"),
    ("Patient is currently receiving or has received any radiation therapy, anti-neoplastic agents or "
     "immunosuppressant medication within 4 weeks prior to the first dose of study drug.",
     ("any", therapy("radiotherapy", "within", "4 weeks"), therapy("anticancer_therapy", "within", "4 weeks"),
      therapy("immunosuppressive_therapy", "within", "4 weeks")), "washout"),
    ("Chemotherapy and/or radiation therapy within 4 weeks.",
     ("any", therapy("chemotherapy", "within", "4 weeks"), therapy("radiotherapy", "within", "4 weeks")),
     "washout"),
]


@pytest.mark.parametrize(("item", "expected", "category"), _CORPUS)
def test_corpus_exclusions(item: str, expected: object, category: str) -> None:
    _, criterion = compiled(item)
    assert shape(criterion.rule) == expected
    assert criterion.category == category
    assert criterion.computable


def test_list_leaves_point_at_their_names() -> None:
    item = "Major surgery or radiotherapy within 14 days before the first dose of study drug"
    text, criterion = compiled(item)
    assert span_text(text, criterion.rule) == item
    assert [span_text(text, leaf) for leaf in leaves(criterion.rule)] == ["Major surgery", "radiotherapy"]


def test_example_outside_the_class_is_an_alternative() -> None:
    _, criterion = compiled("Receiving immunosuppressive medication (e.g. Steroids)")
    assert shape(criterion.rule) == ("any", therapy("immunosuppressive_therapy", "current"),
                                     therapy("corticosteroid", "current"))


# --- What is not read ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("item", [
    "Life expectancy of at least 12 weeks",
    "Female participants must use contraception for 3 months after the last dose",
    "Treatment",
    "Must have recovered from the toxic effects of prior therapy",
    "More than 2 prior lines of therapy",
    "At least one prior chemotherapy regimen",
    "Patients must have received at least 2 cycles of chemotherapy",
    "Eligible for allogeneic stem cell transplant",
    "Patients planned to receive HSCT",
    "Patients who relapse within 6 months of HSCT",
    "Refractory to prior blinatumomab",
    "Prior radiotherapy to the chest",
    "Prior radiation to more than 25% of bone marrow within 4 weeks",
    # Corpus wordings whose therapy is qualified in a way no rule says.
    "Malignancy treated with chemotherapy within the past 3 years",
    "Subjects who are receiving systemic glucocorticoids (≥14 days)",
    "Prior rituximab use without documentation of normalized b cell counts.",
    "Use of an investigational agent, including an investigational anti-cancer agent, within 28 days or 5 "
    "half-lives, whichever is longer, prior to the first dose of investigational product.",
    "The subject has participated in a clinical trial and has received an investigational product within the "
    "following time period prior to the first dosing day in the current study: 30 days",
    "Patients who have received bone marrow transplant or are to receive bone marrow transplant.",
    "Previous participation in another clinical trial",
    "Willingness to participate in the study",
])
def test_not_read_as_a_computable_therapy(item: str) -> None:
    for section in ("inclusion", "exclusion"):
        _, criterion = compiled(item, section)
        mine = [leaf for leaf in leaves(criterion.rule) if isinstance(leaf, Therapy | StudyEnrolment)]
        assert not (mine and criterion.computable), (section, criterion.rule)


@pytest.mark.parametrize("item", [
    "Any marrow relapse after allogeneic hematopoietic stem cell transplant (alloHSCT);",
    "Relapse at any time after allogenic hematopoietic stem cell transplant (HSCT)",
    "Participants that are intolerant or refractory to prior tyrosine kinase inhibitors (TKIs) are eligible",
    "Patients taking part in this study",
])
def test_recogniser_reads_no_therapy(item: str) -> None:
    found = therapies.recognise(Passage(item, 0, len(item), "inclusion"))
    assert not [f for f in found if isinstance(f.rule, Therapy | StudyEnrolment)]


def test_duration_later_in_the_clause_stops_an_ever_reading() -> None:
    item = ("Subjects who received any investigational medication, immunosuppressives or cytotoxic agents within "
            "6 months")
    found = therapies.recognise(Passage(item, 0, len(item), "exclusion"))
    assert all(leaf.timing == "within" for f in found for leaf in leaves(f.rule) if isinstance(leaf, Therapy))


@pytest.mark.parametrize(("item", "section", "expected"), [
    ("chemotherapy or radiotherapy within 4 weeks (6 weeks for nitrosoureas or mitomycin C) prior to entering the "
     "study", "exclusion",
     ("any", therapy("chemotherapy", "within", "4 weeks"), therapy("radiotherapy", "within", "4 weeks"),
      therapy("nitrosourea", "within", "6 weeks"), therapy("mitomycin", "within", "6 weeks"))),
    ("At least 4 weeks since prior chemotherapy (6 weeks for nitrosoureas or mitomycin C)", "inclusion",
     ("not", ("any", therapy("chemotherapy", "within", "4 weeks"), therapy("nitrosourea", "within", "6 weeks"),
              therapy("mitomycin", "within", "6 weeks")))),
])
def test_longer_window_for_some_drugs(item: str, section: str, expected: tuple) -> None:
    _, criterion = compiled(item, section)
    assert shape(criterion.rule) == expected
    assert criterion.computable


@pytest.mark.parametrize("item", [
    "Chemotherapy within 4 weeks (2 weeks for vinca alkaloids)",  # shorter: an exception no rule can state
    "Chemotherapy within 4 weeks (6 weeks for rituximab)",  # not a chemotherapy
])
def test_other_per_drug_windows_stay_questions(item: str) -> None:
    _, criterion = compiled(item)
    assert not criterion.computable


def test_other_than_right_after_the_name_is_an_exception() -> None:
    text, criterion = compiled("Chemotherapy other than hydroxyurea within 2 weeks prior to registration")
    rule = criterion.rule
    assert shape(rule) == therapy("chemotherapy", "within", "2 weeks", ("hydroxyurea",))
    assert isinstance(rule, Therapy)
    assert span_text(text, rule.exceptions[0]) == "other than hydroxyurea"
    assert criterion.computable


def test_components_of_an_unnamed_product_are_not_read() -> None:
    _, criterion = compiled("Known hypersensitivity to corticosteroids or any excipients in the product")
    assert shape(criterion.rule) == ("any", ("hypersensitivity", "corticosteroid", False, False), "question")


@pytest.mark.parametrize(("item", "expected", "category"), [
    ("Currently participating in another investigational study or has participated in an investigational study "
     "within 30 days prior to randomization.", ("study", "30 days"), "other_study"),
    ("Systemic corticosteroids within 7 days of registration",
     therapy("systemic_corticosteroids", "within", "7 days"), "washout"),
    ("Current use of systemic corticosteroids", therapy("systemic_corticosteroids", "current"), "current_therapy"),
    ("Major surgery within 4 weeks", therapy("major_surgery", "within", "4 weeks"), "washout"),
    ("Prior treatment with blinatumomab", therapy("blinatumomab", "ever"), "prior_therapy"),
    ("Previous inotuzumab ozogamicin", therapy("inotuzumab_ozogamicin", "ever"), "prior_therapy"),
    ("Received dasatinib within 7 days", therapy("dasatinib", "within", "7 days"), "washout"),
    ("Live vaccine within 30 days of first dose", therapy("live_vaccine", "within", "30 days"), "washout"),
])
def test_common_forms(item: str, expected: tuple, category: str) -> None:
    text, criterion = compiled(item)
    assert shape(criterion.rule) == expected
    assert criterion.category == category and criterion.computable
    assert span_text(text, criterion.rule) == item.rstrip(".")


def test_exception_that_names_nothing_read_is_kept_as_text() -> None:
    _, criterion = compiled("Systemic corticosteroids within 7 days prior to study entry, except for physiologic "
                            "replacement doses")
    rule = criterion.rule
    assert isinstance(rule, Therapy)
    (exception,) = rule.exceptions
    # Nothing is exempt outright: a patient on corticosteroids is asked whether the exception covers them.
    assert exception.concepts == () and not exception.complete
    assert criterion.computable


def test_taking_a_drug_for_a_period_is_not_a_washout() -> None:
    _, criterion = compiled("On a stable dose of corticosteroids for the past 3 months", "inclusion")
    assert not any(isinstance(leaf, Therapy) for leaf in leaves(criterion.rule))


# --- drugs and classes added for solid-tumour and general trials (corpus wordings) ---------------------------


@pytest.mark.parametrize(("item", "section", "expected", "category"), [
    ("Prior treatment with EGFR targeting antibodies", "exclusion", therapy("egfr_inhibitor", "ever"),
     "prior_therapy"),
    ("Has prior treatment using an anthracycline", "exclusion", therapy("anthracycline", "ever"), "prior_therapy"),
    ("Prior treatment with apremilast", "exclusion", "question", "prior_therapy"),
    ("No prior gemcitabine hydrochloride", "inclusion", ("not", therapy("gemcitabine", "ever")), "prior_therapy"),
    ("No prior sorafenib tosylate or sunitinib malate", "inclusion",
     ("not", ("any", therapy("sorafenib", "ever"), therapy("sunitinib", "ever"))), "prior_therapy"),
    ("No prior oxaliplatin", "inclusion", ("not", therapy("oxaliplatin", "ever")), "prior_therapy"),
    ("No prior erlotinib or other epidermal growth factor receptor inhibitors", "inclusion",
     ("not", ("any", therapy("erlotinib", "ever"), therapy("egfr_inhibitor", "ever"))), "prior_therapy"),
    ("Previous treatment with fulvestrant", "exclusion", therapy("fulvestrant", "ever"), "prior_therapy"),
    ("Prior treatment with an HDAC inhibitor or an EGFR inhibitor", "exclusion",
     ("any", therapy("hdac_inhibitor", "ever"), therapy("egfr_inhibitor", "ever")), "prior_therapy"),
    ("Bevacizumab within 4 weeks prior to registration", "exclusion", therapy("bevacizumab", "within", "4 weeks"),
     "washout"),
    ("Warfarin sodium within 7 days", "exclusion", therapy("warfarin", "within", "7 days"), "washout"),
    ("At least 4 weeks since prior chemotherapy", "inclusion",
     ("not", therapy("chemotherapy", "within", "4 weeks")), "washout"),
    ("Currently taking antiepileptic drugs", "exclusion", therapy("antiepileptic", "current"), "current_therapy"),
    ("Concurrent use of NSAIDs", "exclusion", therapy("nsaid", "current"), "current_therapy"),
])
def test_added_therapies(item: str, section: str, expected: object, category: str) -> None:
    _, criterion = compiled(item, section)
    assert shape(criterion.rule) == expected
    assert criterion.category == category
    assert criterion.computable == (expected != "question")


def test_added_drug_span_and_ancestors() -> None:
    text, criterion = compiled("Prior treatment with EGFR targeting antibodies")
    assert span_text(text, criterion.rule) == "Prior treatment with EGFR targeting antibodies"
    from trialmatch.vocabulary.concepts import load_vocabulary
    vocabulary = load_vocabulary()
    assert "egfr_inhibitor" in vocabulary.ancestors("erlotinib")
    assert {"chemotherapy", "anticancer_therapy"} <= set(vocabulary.ancestors("carboplatin"))
    assert "anticancer_therapy" in vocabulary.ancestors("letrozole")
    assert "anticancer_therapy" not in vocabulary.ancestors("hormone_replacement_therapy")


@pytest.mark.parametrize("item", [
    "Insulin-dependent diabetes mellitus",  # a disease, not a therapy taken
    "Patient eligible for Carboplatin-based chemotherapy",  # a plan
    "No prior radiotherapy to the chest",  # narrowed by a site the rule can't say
    "Platinum-resistant disease",
])
def test_mentions_that_are_not_a_therapy_rule(item: str) -> None:
    _, criterion = compiled(item, "inclusion")
    assert not any(isinstance(leaf, Therapy) for leaf in leaves(criterion.rule))


def test_passage_without_therapy_words_is_skipped() -> None:
    text = "Age 18 years or older"
    assert therapies.recognise(Passage(text, 0, len(text), "inclusion")) == []
