"""Chords for folk tunes: read chord slots from ABC (reading), choose chords (net: a small
bidirectional GRU learned from the Nottingham Music Database, the shipped default; model: the
HMM, hand-set or learned, kept as the floor), write them into the text (harmonise), learn and
score against human chords (data, train, evaluate). The renderer plays them (bot.accompaniment).

Nothing here loads a model at import: bot.harmony.model.load() reads it once, on first use."""
