"""RMS and dBFS against literals; silence reports the documented floor."""

import math

import numpy as np
import pytest

from realtime_widget.audio import DBFS_FLOOR, dbfs, rms


def test_rms_of_full_scale_square_is_one_and_zero_dbfs():
    x = np.array([-32768, -32768, 32767, 32767], np.int16)
    assert rms(x) == pytest.approx(1.0, abs=2e-5)
    assert dbfs(x) == pytest.approx(0.0, abs=2e-4)
    assert dbfs(np.array([1.0, -1.0])) == 0.0


def test_full_scale_sine_is_minus_3_01_dbfs():
    x = np.sin(2 * np.pi * np.arange(48000) / 48)
    assert dbfs(x) == pytest.approx(-3.0103, abs=1e-3)


def test_half_scale_int16_literal():
    assert rms(np.array([16384, -16384], np.int16)) == 0.5
    assert dbfs(np.array([16384, -16384], np.int16)) == pytest.approx(-6.0206, abs=1e-4)


def test_levels_read_pcm16_bytes():
    assert rms(np.array([16384, -16384], "<i2").tobytes()) == 0.5


def test_silence_and_empty_input_report_the_floor():
    assert DBFS_FLOOR == -100.0 and math.isfinite(DBFS_FLOOR)
    assert dbfs(np.zeros(100, np.int16)) == DBFS_FLOOR
    assert dbfs(np.zeros(0)) == DBFS_FLOOR
    assert rms(np.zeros(0)) == 0.0


def test_one_lsb_is_above_the_floor():
    assert dbfs(np.ones(10, np.int16)) == pytest.approx(-90.309, abs=1e-3)


def test_levels_reject_integers_outside_int16():
    with pytest.raises(ValueError, match="int16"):
        rms(np.array([70000]))
