"""bench/model_compare.py's measures on tiny inline inputs: overlap, classifier, copy check, note counts."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from bench.model_compare import (
    INTERVALS, LENGTHS, CopyIndex, body_of, classifier_accuracy, feature_vector,
    overlap, tune_counts, window_hashes,
)


def test_overlap_is_one_for_the_same_histogram_and_zero_for_disjoint_ones():
    a = np.array([3, 1, 0, 0])
    assert overlap(a, a) == pytest.approx(1.0)
    assert overlap(a, 10 * a) == pytest.approx(1.0)  # counts are normalised first
    assert overlap(a, np.array([0, 0, 2, 5])) == pytest.approx(0.0)
    assert overlap(np.array([1, 1]), np.array([1, 0])) == pytest.approx(0.5)


def _histograms(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    return rng.dirichlet(alpha, size=n)


def test_classifier_cannot_tell_two_samples_of_one_distribution_apart():
    rng = np.random.default_rng(1)
    alpha = np.array([8.0, 4.0, 2.0, 1.0, 1.0, 6.0])
    accuracy = classifier_accuracy(_histograms(rng, alpha, 300), _histograms(rng, alpha, 200))
    assert 0.4 <= accuracy <= 0.6


def test_classifier_tells_clearly_different_distributions_apart():
    rng = np.random.default_rng(2)
    a = _histograms(rng, 5 * np.array([8.0, 4.0, 2.0, 1.0, 1.0, 6.0]), 120)
    b = _histograms(rng, 5 * np.array([1.0, 1.0, 6.0, 8.0, 4.0, 2.0]), 500)  # subsampled to 120
    assert classifier_accuracy(a, b) >= 0.98


def test_classifier_needs_a_row_per_fold():
    assert np.isnan(classifier_accuracy(np.ones((3, 2)), np.zeros((30, 2))))


def _training_tunes() -> list[str]:
    rng = np.random.default_rng(3)
    letters = np.array(list("ABCDEFGabcdefg|2 "))
    return ["M:4/4\nL:1/8\nK:D\n" + "".join(rng.choice(letters, 300)) + "\n" for _ in range(20)]


def test_copy_check_finds_a_planted_40_character_run_and_nothing_shorter():
    train = _training_tunes()
    index = CopyIndex(train, run=40)
    planted = train[7][100:140]
    fresh = "xyz" * 30
    assert index.copied(fresh[:50] + planted + fresh[:20]) == planted
    assert index.copied(fresh[:50] + planted[:39] + fresh[:20]) is None
    assert index.copied(fresh) is None
    assert index.copied("") is None
    # A run across two training tunes is not in any one tune.
    assert index.copied(train[0][-20:] + train[1][:20]) is None


def test_window_hashes_match_exactly_where_the_windows_do():
    codes = np.frombuffer(b"abcabcabd", dtype=np.uint8)
    h = window_hashes(codes, 3)
    assert len(h) == 7
    assert h[0] == h[3] and h[1] == h[4]
    assert h[2] == h[5] and h[0] != h[1] and h[6] != h[0]  # "abd" differs from "abc" in its last letter
    assert len(window_hashes(codes[:2], 3)) == 0


def test_tune_counts_reads_scale_degrees_intervals_and_lengths():
    counts = tune_counts("M:4/4\nL:1/8\nR:reel\nK:G\nGABc d2 z2|B4 G4|]\n")
    pitches, intervals, lengths = counts
    # G A B c d B G from the tonic G: degrees 0 2 4 5 7 4 0 (the rest is skipped).
    assert pitches[[0, 2, 4, 5, 7]].tolist() == [2, 1, 2, 1, 1]
    assert pitches.sum() == 7
    steps = [+2, +2, +1, +2, -3, -4]
    assert intervals.sum() == len(steps)
    for step in set(steps):
        assert intervals[step + INTERVALS + 1] == steps.count(step)
    # In 4/4 an eighth is 1/8 of the bar, a crotchet 1/4, a minim 1/2.
    eighth, quarter, half = (LENGTHS.index(Fraction(1, d)) for d in (8, 4, 2))
    assert (lengths[eighth], lengths[quarter], lengths[half]) == (4, 1, 2)
    vector = feature_vector(counts)
    assert vector.shape == (pitches.size + intervals.size + lengths.size,)
    assert vector.sum() == pytest.approx(3.0)  # three histograms, each summing to 1


def test_note_lengths_count_alike_however_the_meter_is_written():
    in_two_four = tune_counts("M:2/4\nL:1/16\nK:D\nABcd efga|]\n")[2]
    in_cut_time = tune_counts("M:2/2\nL:1/8\nK:D\nABcd efga|]\n")[2]
    assert in_two_four.tolist() == in_cut_time.tolist()
    assert in_two_four[LENGTHS.index(Fraction(1, 8))] == 8
    jig = tune_counts("M:6/8\nL:1/8\nK:D\nABc d2e|]\n")[2]
    assert jig[LENGTHS.index(Fraction(1, 6))] == 4 and jig[LENGTHS.index(Fraction(1, 3))] == 1
    free = tune_counts("M:none\nL:1/8\nK:D\nABc|]\n")[2]
    assert free[-1] == 3  # no bar length: the last bin


def test_tune_counts_is_none_for_a_tune_without_notes():
    assert tune_counts("M:4/4\nL:1/8\nK:D\nz8|]\n") is None


def test_body_of_leaves_out_the_headers():
    assert body_of("X:1\nM:6/8\nL:1/8\nR:jig\nK:D\nABc def|]\n") == "ABc def|]\n"


def test_motion_counts_whole_tone_steps_and_leaps_of_a_fourth_or_more():
    from bench.model_compare import motion

    # C D E F A d: intervals +2 +2 +1 +4 +5 -> two whole-tone steps, one leap of a fourth.
    counts = tune_counts("X:1\nM:4/4\nL:1/8\nK:C\nCDEF A2d2|\n")
    steps, leaps = motion([counts])
    assert steps == pytest.approx(2 / 5) and leaps == pytest.approx(1 / 5)
    assert all(x != x for x in motion([]))  # no tunes: no figure


def test_the_bench_needs_the_new_model_named_and_names_a_missing_one(capsys):
    # No default for the new model (it lives wherever it was trained); a wrong stem is named
    # before anything heavy loads, with what to give instead.
    from bench.model_compare import main

    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2 and "--new" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--new", "no/such/model"])
    err = capsys.readouterr().err
    assert "--new no/such/model: no checkpoint there" in err and "no/such/model.safetensors is missing" in err
    assert "python -m bot.train --out STEM" in err


def test_the_bench_defaults_to_the_shipped_model_and_capacity_to_a_folder_in_the_repo(tmp_path, capsys):
    from bench import capacity
    from bench.model_compare import OLD, missing_checkpoint

    assert OLD == "checkpoints/abc_lstm" and missing_checkpoint(OLD) is None  # the shipped one is there
    assert capacity.DEFAULT_DIR.relative_to(capacity.ROOT).as_posix() == "bench/out/capacity"
    with pytest.raises(SystemExit):
        capacity.main(["--score-only", "--dir", str(tmp_path / "empty")])
    assert "no finished candidate in" in capsys.readouterr().err
