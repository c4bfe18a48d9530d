"""The rule book (bot/compose/rules/__init__.py): phases, order, and one tested module per rule."""

from __future__ import annotations

import numpy as np

from bot.compose.rules import rules_for
from bot.compose.state import TuneState
import importlib
import inspect
from pathlib import Path

from bot.compose import rules as rules_pkg
from bot.compose.rules import RULES, Rulebook
from bot.compose.rules.base import ALWAYS, CHECKED, STEER, Rule
from bot.compose.rules.ties import TiePartner
from rule_states import chars, rule, tune, VOCAB


ROOT = Path(__file__).resolve().parent.parent


def book(state: TuneState) -> Rulebook:
    return Rulebook(rules_for(VOCAB), state)


def test_checked_rules_are_dropped_once_a_bars_tries_are_spent_but_syntax_stays():
    state = tune("A2FA dAFA")  # full: only a bar line may follow while checked
    assert "c" in chars(book(state).banned(state, lenient=False))
    lenient = chars(book(state).banned(state, lenient=True))
    assert "c" not in lenient and "H" in lenient  # a note may run on, a fermata still may not


def test_a_tie_steer_gives_way_when_it_would_leave_nothing_to_draw():
    state = tune("A2FA d-")
    steer = rule(TiePartner).banned(state)
    assert "e" in chars(book(state).banned(state, lenient=True))  # the partner is steered ...
    everything = np.ones(len(VOCAB), dtype=bool)
    everything[VOCAB.index("e")] = False  # ... unless the others leave only a note it bans

    class OnlyE(Rule):
        phase = ALWAYS
        fresh_mask = True

        def banned(self, state):
            return everything.copy()

    alone = Rulebook((OnlyE(None), rule(TiePartner)), state)
    assert chars(alone.banned(state, lenient=False)) == set(VOCAB) - {"e"} and steer is not False


def test_form_rules_are_left_out_of_a_tune_without_form():
    without = book(tune("A2", form=False))
    assert not any(r.needs_form for r in without.always + without.steer + without.checked + without.judges)
    assert any(r.needs_form for r in book(tune("A2")).checked)


def test_the_list_runs_always_then_steer_then_checked_and_judges_from_the_bar_length():
    phases = [r.phase for r in RULES if r.banned is not Rule.banned]
    assert phases == sorted(phases, key=[ALWAYS, STEER, CHECKED].index)
    assert RULES[0].__name__ == "BarLength"  # the first judge gives the verdict


def test_every_rule_module_is_in_the_list_and_has_its_own_tests():
    folder = Path(rules_pkg.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in ("__init__", "base"))
    listed = {r.__module__.rsplit(".", 1)[1] for r in RULES}
    assert listed == set(modules)
    for name in modules:
        module = importlib.import_module(f"bot.compose.rules.{name}")
        classes = {c for _, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, Rule) and c is not Rule and c.__module__ == module.__name__}
        assert classes <= set(RULES), f"{name}: {classes - set(RULES)} not in RULES"
        assert (ROOT / "tests" / f"test_rules_{name}.py").exists(), f"no tests/test_rules_{name}.py"


def test_the_composer_loop_stays_small():
    loop = ROOT / "bot" / "compose" / "loop.py"
    assert len(loop.read_text().splitlines()) <= 250  # the bound: sampling, rollback, retries, streaming
