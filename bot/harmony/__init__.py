"""Chords for folk tunes: read chord slots from ABC (reading), choose chords with an HMM (model,
harmonise), learn it from human chords (data, train, evaluate), and play them (realise).

Nothing here loads the model at import: bot.harmony.model.load() reads it once, on first use."""
