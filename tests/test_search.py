"""Search over the demo corpus: synonyms, spellings and every filter, checked against known trials."""

from __future__ import annotations

import pytest

from trialmatch.places import parse_place
from trialmatch.store.search import SearchError, SearchQuery, search
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import OPEN_STATUSES

CRUK_PAGE = "CRUK-8795"  # seed 000
CENTERWATCH = "NCT04521231"  # seed 001, adults 18+
SEOUL = "NCT04604691"  # seed 003, 17 years and younger, phase 1
CHINESE_PAEDIATRIC = "NCT06054113"  # seed 004, 1 to 204 months, phase 2, sites in China
PALLAS = "NCT02513394"  # breast cancer, CT.gov v2 record, 437 sites


def ids(store: TrialStore, text: str = "", **filters: object) -> list[str]:
    results = search(store, SearchQuery(text=text, limit=200, **filters))
    return [hit.trial.id for hit in results.hits]


def test_all_means_acute_lymphoblastic_leukaemia_not_the_word_all(demo_store: TrialStore) -> None:
    found = ids(demo_store, "ALL")
    assert {CRUK_PAGE, CENTERWATCH, SEOUL, CHINESE_PAEDIATRIC} <= set(found)
    assert PALLAS not in found  # its text says "all" many times
    assert set(ids(demo_store, "acute lymphoblastic leukaemia")) == set(found)


def test_leukaemia_and_leukemia_find_the_same_trials(demo_store: TrialStore) -> None:
    british = search(demo_store, SearchQuery(text="leukaemia", limit=200))
    american = search(demo_store, SearchQuery(text="leukemia", limit=200))
    assert british.total == american.total > 100
    assert [h.trial.id for h in british.hits] == [h.trial.id for h in american.hits]


def test_b_all_is_precursor_b_cell_lymphoblastic_leukemia(demo_store: TrialStore) -> None:
    b_all = set(ids(demo_store, "B-ALL"))
    assert {CHINESE_PAEDIATRIC, "NCT02109224"} <= b_all  # the second says "adult b acute lymphoblastic leukemia"
    assert set(ids(demo_store, "precursor B-cell lymphoblastic leukemia")) == b_all


def test_relevance_puts_title_matches_first(demo_store: TrialStore) -> None:
    top = ids(demo_store, "blinatumomab")[:5]
    assert CHINESE_PAEDIATRIC in top and CENTERWATCH in top


def test_open_means_recruiting_not_yet_recruiting_or_by_invitation(demo_store: TrialStore) -> None:
    results = search(demo_store, SearchQuery(text="cancer", statuses=["open"], limit=200))
    assert results.total > 0
    assert all(hit.trial.overall_status in OPEN_STATUSES for hit in results.hits)
    assert "NCT05380414" in [h.trial.id for h in results.hits]  # recruiting pancreatic cancer profiling
    assert PALLAS not in [h.trial.id for h in results.hits]  # active, not recruiting


def test_phase_filter(demo_store: TrialStore) -> None:
    phase2 = ids(demo_store, "blinatumomab", phases=["2"])
    assert CHINESE_PAEDIATRIC in phase2 and SEOUL not in phase2
    assert SEOUL in ids(demo_store, "blinatumomab", phases=["PHASE1"])


def test_study_type_filter(demo_store: TrialStore) -> None:
    observational = search(demo_store, SearchQuery(study_types=["observational"], limit=200))
    assert observational.total > 0
    assert all(hit.trial.study_type == "OBSERVATIONAL" for hit in observational.hits)


@pytest.mark.parametrize(
    ("age", "included", "excluded"),
    [
        (30, {CENTERWATCH}, {SEOUL, CHINESE_PAEDIATRIC}),
        (10, {SEOUL, CHINESE_PAEDIATRIC}, {CENTERWATCH}),
        (17.5, {SEOUL}, {CHINESE_PAEDIATRIC, CENTERWATCH}),  # 17 years and younger admits 17½; 204 months doesn't
        (0.05, set(), {CHINESE_PAEDIATRIC}),  # 18 days old: under the 1-month minimum
    ],
)
def test_age_is_checked_against_each_trials_limits(
    demo_store: TrialStore, age: float, included: set[str], excluded: set[str]
) -> None:
    found = set(ids(demo_store, "blinatumomab", age_years=age))
    assert included <= found
    assert not excluded & found


def test_sex_filter(demo_store: TrialStore) -> None:
    women_only = [t for t in demo_store.iter_trials() if t.eligibility.sex == "FEMALE"]
    assert women_only
    for_men = set(ids(demo_store, sex="male"))
    assert not {t.id for t in women_only} & for_men
    assert {t.id for t in women_only} <= set(ids(demo_store, sex="female"))


def test_country_filter(demo_store: TrialStore) -> None:
    assert ids(demo_store, "blinatumomab", country="China") == [CHINESE_PAEDIATRIC]
    assert PALLAS in ids(demo_store, "breast", country="UK")


def test_distance_filter_shows_the_nearest_site_not_the_first(demo_store: TrialStore) -> None:
    results = search(demo_store, SearchQuery(text="blinatumomab", near=parse_place("Wuhan"), radius_km=100))
    assert [hit.trial.id for hit in results.hits] == [CHINESE_PAEDIATRIC]
    site = results.hits[0].nearest_site
    assert site is not None and site.facility == "Wuhan Childrens Hospital"
    assert site.distance_km < 30


def test_distance_in_a_radius_excludes_far_trials(demo_store: TrialStore) -> None:
    assert ids(demo_store, "blinatumomab", near=parse_place("Leeds"), radius_km=500) == []


def test_sort_by_distance_and_by_update(demo_store: TrialStore) -> None:
    near = search(demo_store, SearchQuery(near=parse_place("Lyon"), radius_km=1000, sort="distance", limit=50))
    distances = [hit.nearest_site.distance_km for hit in near.hits]
    assert near.total > 1 and distances == sorted(distances)
    updated = search(demo_store, SearchQuery(text="cancer", sort="updated", limit=50))
    dates = [hit.trial.provenance.source_last_update or "" for hit in updated.hits]
    assert dates == sorted(dates, reverse=True)


def test_paging_is_stable(demo_store: TrialStore) -> None:
    first = ids(demo_store, "leukemia")[:20]
    page1 = search(demo_store, SearchQuery(text="leukemia", limit=10, offset=0))
    page2 = search(demo_store, SearchQuery(text="leukemia", limit=10, offset=10))
    assert [h.trial.id for h in page1.hits + page2.hits] == first


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (SearchQuery(text="x", phases=["7"]), "unknown phase"),
        (SearchQuery(text="x", statuses=["sleeping"]), "unknown status"),
        (SearchQuery(text="x", sex="other"), "sex must be"),
        (SearchQuery(text="x", country="Narnia"), "unknown country"),
        (SearchQuery(text="x", sort="distance"), "needs a place"),
    ],
)
def test_bad_filters_say_how_to_fix_them(demo_store: TrialStore, query: SearchQuery, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        search(demo_store, query)


def test_query_syntax_is_never_passed_through(demo_store: TrialStore) -> None:
    for hostile in ['"unbalanced', "NEAR(a b)", "title:*", "a OR", "-x", "(((", "'; DROP TABLE trials; --"]:
        try:
            search(demo_store, SearchQuery(text=hostile))
        except SearchError as error:
            assert "nothing to search for" in str(error)
    assert demo_store.count() > 350


def test_a_trial_with_sites_far_apart_is_found_near_each_of_them(demo_store: TrialStore) -> None:
    for city in ("Anchorage", "Vienna"):
        results = search(demo_store, SearchQuery(text="breast", near=parse_place(city), radius_km=50))
        assert PALLAS in [hit.trial.id for hit in results.hits], city
        nearest = next(hit.nearest_site for hit in results.hits if hit.trial.id == PALLAS)
        assert nearest.distance_km < 50


def test_filters_alone_without_words(demo_store: TrialStore) -> None:
    results = search(demo_store, SearchQuery(near=parse_place("Hefei"), radius_km=50, sort="distance"))
    assert [hit.trial.id for hit in results.hits] == [CHINESE_PAEDIATRIC]
    assert results.total_is_exact


@pytest.mark.parametrize(("place", "radius"), [("London, UK", None), ("Boston", 250.0), ("Lyon, France", 400.0)])
def test_each_hit_shows_the_site_nearest_in_its_record(demo_store: TrialStore, place: str,
                                                       radius: float | None) -> None:
    """The site shown comes from the store's site rows; it is the one the full record says is nearest."""
    from trialmatch.screening import nearest_site

    near = parse_place(place)
    results = search(demo_store, SearchQuery(text="", statuses=[], near=near, radius_km=radius, limit=100))
    assert len(results.hits) >= 5
    for hit in results.hits:
        trial = demo_store.get(hit.trial.id)
        assert trial is not None and hit.nearest_site is not None
        expected = nearest_site(trial, near)
        assert expected is not None
        shown = hit.nearest_site
        assert (", ".join(p for p in (shown.facility, shown.city, shown.country) if p), shown.distance_km) == expected
        if radius is not None:
            assert shown.distance_km is not None and shown.distance_km <= radius


def test_without_a_place_each_hit_shows_its_first_site(demo_store: TrialStore) -> None:
    results = search(demo_store, SearchQuery(text="", statuses=[], limit=50))
    shown = 0
    for hit in results.hits:
        trial = demo_store.get(hit.trial.id)
        assert trial is not None
        if trial.sites:
            first = trial.sites[0]
            assert hit.nearest_site is not None
            assert (hit.nearest_site.facility, hit.nearest_site.city, hit.nearest_site.country) == (
                first.facility, first.city, first.country)
            shown += 1
        else:
            assert hit.nearest_site is None
    assert shown >= 10


def test_disease_names_with_filler_words_ask_for_their_parts_near_each_other(demo_store: TrialStore) -> None:
    """ "cancer of the breast" is asked as "cancer" within two words of "breast": the index no longer walks
    "of" and "the" through every trial, and the same trials are found by every name of the concept."""
    from trialmatch.store.search import _near_form, build_match_expression

    assert _near_form('"cancer of the breast"') == 'NEAR("cancer" "breast", 2)'
    assert _near_form('"malignant neoplasm of breast"') == 'NEAR("malignant neoplasm" "breast", 1)'
    assert _near_form('"breast cancer"') == '"breast cancer"'
    assert _near_form('"the breast"') == '"the breast"'  # nothing to gain: asked as it is
    expression = build_match_expression("breast cancer")
    assert expression is not None and "NEAR(" in expression and '"of' not in expression
    by_name = [ids(demo_store, name) for name in ("breast cancer", "carcinoma of the breast", "breast carcinoma")]
    assert by_name[0] and by_name[0] == by_name[1] == by_name[2]
