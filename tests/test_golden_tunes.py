"""The golden tunes come out byte-identical: 200+ fixed generations (bench/golden.py) against
the hashes stored for this machine's compute path. A change to the composer that is meant to
change tunes reruns `python bench/golden.py --write` and says so; any other change leaves
every hash as it is."""

from __future__ import annotations

import json

import torch

from bench import golden


def test_the_golden_set_is_large_and_covers_each_kind_of_case():
    cases = golden.cases()
    assert len(cases) >= 200
    assert sum(c.prompt.startswith("paste:") for c in cases) >= 20  # continuations
    assert any(not c.form for c in cases) and any(c.form for c in cases)
    assert any(not c.bar_check for c in cases)


def test_every_golden_tune_is_unchanged():
    stored = json.loads(golden.GOLDEN.read_text())
    path = golden.path_name()
    # Every CPU path the machines choose has its hashes (sampling always runs on the CPU); a new
    # path fails here until its hashes are written, never skips.
    assert path in stored["paths"], (f"no golden hashes stored for compute path {path}: run "
                                     f"`python bench/golden.py --write` on this path once its tunes are checked")
    from bot.checkpoint import load_cached

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the bot runs (the hashes were made with one thread)
    try:
        loaded = load_cached()
        if golden.kernel_fingerprint(loaded) != stored.get("fingerprints", {}).get(path):
            # This CPU rounds the path's products otherwise than the machine that wrote the hashes
            # (AMX against AVX-512, say): its tunes may differ in a drawn character, so the
            # check is what holds on any CPU: the same tune from the same seed, every time.
            picked = list(range(0, len(golden.cases()), 12))
            assert golden.compute(loaded, picked) == golden.compute(loaded, picked)
            return
        differ = golden.compare(stored, loaded)
    finally:
        torch.set_num_threads(threads)
    assert not differ, f"{len(differ)} of {len(stored['cases'])} golden tunes changed:\n" + "\n".join(differ)
