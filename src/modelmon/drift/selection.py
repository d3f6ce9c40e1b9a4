"""Automatic choice of a drift test per feature, by feature type and sample size.

p-value tests answer "could these samples come from one distribution?". With enough data the
answer is "no" for any difference at all, so at large sizes they flag drift that does not
matter. The default therefore tests for *significance* at small sizes and judges the *size of
the change* above :data:`SIZE_CUTOVER` values (the smaller sample's size):

================  ===========================================  ===============================
feature           n <= 1000                                    n > 1000
================  ===========================================  ===============================
numeric           ``ks`` (p < 0.05)                            ``normalized_wasserstein``
                                                               (>= 0.1 reference std)
categorical       ``chi_square`` (p < 0.05); ``proportions_z``  ``jensen_shannon`` (>= 0.1,
                  when there are exactly two categories         base 2)
================  ===========================================  ===============================

The same split as Evidently's default data-drift preset; see ``docs/drift.md`` for the reasoning.

>>> choose_test("numeric", 500, 800), choose_test("numeric", 50_000, 40_000)
('ks', 'normalized_wasserstein')
>>> choose_test("categorical", 200, 300, n_categories=2)
'proportions_z'
"""

from __future__ import annotations

from modelmon._validation import check_int, check_option

__all__ = ["SIZE_CUTOVER", "choose_test"]

#: Largest sample size (the smaller of reference and current) judged by a p-value test.
SIZE_CUTOVER = 1000


def choose_test(
    feature_type: str, n_reference: int, n_current: int, *, n_categories: int | None = None
) -> str:
    """Name of the default test for a feature.

    Parameters
    ----------
    feature_type : {"numeric", "categorical"}
        The feature's type.
    n_reference, n_current : int
        Non-missing values on each side; the smaller decides.
    n_categories : int, optional
        Distinct categories over both samples (categorical features): exactly two picks the
        two-proportion z-test at small sizes.

    Returns
    -------
    str
        A name in the test registry.
    """
    check_option(feature_type, "feature_type", "choose_test", ["numeric", "categorical"])
    check_int(n_reference, "n_reference", "choose_test", low=0)
    check_int(n_current, "n_current", "choose_test", low=0)
    small = min(n_reference, n_current) <= SIZE_CUTOVER
    if feature_type == "numeric":
        return "ks" if small else "normalized_wasserstein"
    if not small:
        return "jensen_shannon"
    return "proportions_z" if n_categories == 2 else "chi_square"
