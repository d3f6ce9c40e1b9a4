"""HDDM_W kernel. Arithmetic mirrors River 0.26.1 ``drift/binary/hddm_w.py`` (after MOA).

Each sample summary is (ewma, initialised, ibc): River's ``SampleInfo``, an exponentially
weighted mean with its "independent bounded condition" sum of squared weights. State: [drift,
warning, total*3, s1_incr*3, s2_incr*3, s1_decr*3, s2_decr*3, incr_cutpoint, decr_cutpoint].
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from modelmon.detectors._kernels._jit import kernel


@kernel
def _sample_update(
    mean: float,
    init: bool,
    ibc: float,
    x: float,
    lam: float,
    one_minus_lam: float,
    lam_sq: float,
    one_minus_lam_sq: float,
) -> tuple[float, bool, float]:
    mean = lam * x + one_minus_lam * mean if init else x
    return mean, True, lam_sq + one_minus_lam_sq * ibc


@kernel
def _changed(
    init1: bool, mean1: float, ibc1: float, init2: bool, mean2: float, ibc2: float, log_term: float
) -> bool:
    # Whether sample 2's mean exceeds sample 1's by more than McDiarmid's bound.
    if not (init1 and init2):
        return False
    return mean2 - mean1 > math.sqrt((ibc1 + ibc2) * log_term / 2.0)


@kernel
def _load(
    s: NDArray[np.float64],
) -> tuple[
    float, bool, float, float, bool, float, float, bool, float, float, bool, float,
    float, bool, float, float, float,
]:
    return (
        s[2], s[3] != 0.0, s[4],
        s[5], s[6] != 0.0, s[7],
        s[8], s[9] != 0.0, s[10],
        s[11], s[12] != 0.0, s[13],
        s[14], s[15] != 0.0, s[16],
        s[17], s[18],
    )  # fmt: skip


@kernel
def run(
    values: NDArray[np.float64],
    state: NDArray[np.float64],
    initial: NDArray[np.float64],
    drifts: NDArray[np.int64],
    warnings: NDArray[np.int64],
    two_sided: bool,
    log_drift: float,
    log_warning: float,
    lam: float,
    one_minus_lam: float,
    lam_sq: float,
    one_minus_lam_sq: float,
) -> tuple[int, int]:
    # log_* = log(1 / confidence), one_minus_lam_sq = (1 - lam) ** 2: computed in Python exactly
    # as River does (``** 2`` is libm's pow, not always equal to a product).
    drift = state[0] != 0.0
    warning = state[1] != 0.0
    (
        t_mean, t_init, t_ibc,
        a_mean, a_init, a_ibc,
        b_mean, b_init, b_ibc,
        c_mean, c_init, c_ibc,
        d_mean, d_init, d_ibc,
        incr_cut, decr_cut,
    ) = _load(state)
    fresh_mean, fresh_init, fresh_ibc = initial[5], initial[6] != 0.0, initial[7]
    n_drifts = 0
    n_warnings = 0
    for i in range(values.shape[0]):
        x = values[i]
        if drift:
            drift = warning = False
            (
                t_mean, t_init, t_ibc,
                a_mean, a_init, a_ibc,
                b_mean, b_init, b_ibc,
                c_mean, c_init, c_ibc,
                d_mean, d_init, d_ibc,
                incr_cut, decr_cut,
            ) = _load(initial)
        t_mean, t_init, t_ibc = _sample_update(
            t_mean, t_init, t_ibc, x, lam, one_minus_lam, lam_sq, one_minus_lam_sq
        )
        # increase: s1_incr (a) is the total at the cut point, s2_incr (b) what came after
        eps = math.sqrt(t_ibc * log_drift / 2.0)
        if t_mean + eps < incr_cut:
            incr_cut = t_mean + eps
            a_mean, a_init, a_ibc = t_mean, t_init, t_ibc
            b_mean, b_init, b_ibc = fresh_mean, fresh_init, fresh_ibc
        else:
            b_mean, b_init, b_ibc = _sample_update(
                b_mean, b_init, b_ibc, x, lam, one_minus_lam, lam_sq, one_minus_lam_sq
            )
        if _changed(a_init, a_mean, a_ibc, b_init, b_mean, b_ibc, log_drift):
            warning = False
            drift = True
        elif _changed(a_init, a_mean, a_ibc, b_init, b_mean, b_ibc, log_warning):
            warning = True
            drift = False
        else:
            warning = False
            drift = False
        # decrease: s1_decr (c) at the cut point, s2_decr (d) after it
        eps = math.sqrt(t_ibc * log_drift / 2.0)
        if t_mean - eps > decr_cut:
            decr_cut = t_mean - eps
            c_mean, c_init, c_ibc = t_mean, t_init, t_ibc
            d_mean, d_init, d_ibc = fresh_mean, fresh_init, fresh_ibc
        else:
            d_mean, d_init, d_ibc = _sample_update(
                d_mean, d_init, d_ibc, x, lam, one_minus_lam, lam_sq, one_minus_lam_sq
            )
        if two_sided:
            if _changed(d_init, d_mean, d_ibc, c_init, c_mean, c_ibc, log_drift):
                drift = True
            elif _changed(d_init, d_mean, d_ibc, c_init, c_mean, c_ibc, log_warning):
                warning = True
        if drift:
            drifts[n_drifts] = i
            n_drifts += 1
        if warning:
            warnings[n_warnings] = i
            n_warnings += 1
    state[0] = 1.0 if drift else 0.0
    state[1] = 1.0 if warning else 0.0
    state[2], state[3], state[4] = t_mean, 1.0 if t_init else 0.0, t_ibc
    state[5], state[6], state[7] = a_mean, 1.0 if a_init else 0.0, a_ibc
    state[8], state[9], state[10] = b_mean, 1.0 if b_init else 0.0, b_ibc
    state[11], state[12], state[13] = c_mean, 1.0 if c_init else 0.0, c_ibc
    state[14], state[15], state[16] = d_mean, 1.0 if d_init else 0.0, d_ibc
    state[17], state[18] = incr_cut, decr_cut
    return n_drifts, n_warnings
