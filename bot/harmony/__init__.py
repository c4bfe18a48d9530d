"""Chords for folk tunes: read chord slots from ABC (reading), choose chords with an HMM (model,
harmonise), learn it from human chords (data, train, evaluate). The renderer plays them
(bot.accompaniment).

Nothing here loads the model at import: bot.harmony.model.load() reads it once, on first use."""
