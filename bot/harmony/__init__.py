"""Chords for folk tunes: read chord slots from ABC (reading), choose chords (net: a small
bidirectional GRU learned from the Nottingham Music Database, the shipped default; model: the
HMM, hand-set or learned, kept as the floor), write them into the text (harmonise), learn and
score against human chords (data, train, evaluate). The renderer plays them (bot.accompaniment).
The modes' scales and triads (scales) are the lowest module: imports go one way, model -> net
-> scales (tests/test_harmony_learned.py checks there is no circle).

Nothing here loads a model at import: bot.harmony.model.load() reads it once, on first use."""
