"""Two prediction files side by side (app.eval.compare): gains, losses and whether they are noise."""

import json

import pytest

from app.errors import DeskmateError
from app.eval.compare import compare, main, wilson


def _write(path, passed: dict[str, bool]):
    path.write_text("".join(json.dumps({"id": i, "calls": [], "text": "", "passed": p, "why": ""}) + "\n"
                            for i, p in passed.items()))
    return path


def test_gains_and_losses_are_the_cases_only_one_side_passes(tmp_path):
    before = _write(tmp_path / "a.jsonl", {"c1": True, "c2": True, "c3": False, "c4": False, "only-a": True})
    after = _write(tmp_path / "b.jsonl", {"c1": True, "c2": False, "c3": True, "c4": True, "only-b": False})
    c = compare(before, after)
    assert (c.n, c.before, c.after) == (4, 2, 3)
    assert c.gained == ("c3", "c4") and c.lost == ("c2",)


def test_mcnemar_p_is_the_exact_two_sided_sign_test_on_the_disagreements(tmp_path):
    ids = [f"c{i}" for i in range(20)]
    same = _write(tmp_path / "same.jsonl", dict.fromkeys(ids, True))
    assert compare(same, same).p_value == 1.0
    # 0 gained, 6 lost: 2 * 0.5**6
    lost6 = _write(tmp_path / "lost6.jsonl", {i: n >= 6 for n, i in enumerate(ids)})
    assert compare(same, lost6).p_value == pytest.approx(2 / 64)
    # 3 gained, 6 lost (the soup of runs 15-17 against the shipped adapter on dev): 2 * (1 + 9 + 36 + 84) / 512
    before = _write(tmp_path / "b.jsonl", {i: n < 6 for n, i in enumerate(ids)})
    after = _write(tmp_path / "a.jsonl", {i: 6 <= n < 9 for n, i in enumerate(ids)})
    assert compare(before, after).p_value == pytest.approx(260 / 512)


def test_wilson_interval_brackets_the_rate_and_stays_in_range():
    lo, hi = wilson(100, 123)
    assert lo < 100 / 123 < hi and (round(lo, 3), round(hi, 3)) == (0.735, 0.872)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0


def test_files_that_are_not_predictions_get_a_clear_error(tmp_path, capsys):
    good = _write(tmp_path / "good.jsonl", {"c1": True})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "c1", "calls": []}\n')
    with pytest.raises(DeskmateError, match="lacks id or passed"):
        compare(good, bad)
    other = _write(tmp_path / "other.jsonl", {"x9": True})
    assert main([str(good), str(other)]) == 2
    assert "share no case ids" in capsys.readouterr().err
    assert main([str(good), str(good)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["p_value"] == 1.0
