"""The composer: one tune written as a loop over one state and a list of rules.

- `settings`: what a tune is asked with (`Settings`) and what its stream carries (`Update`);
- `sequence`: the LSTM state, logits and RNG of the sequence being sampled, and its lone driver;
- `headers`: the header lines, the prompt's or chosen by the model;
- `begin`: the state a tune starts from (pasted bars read, the form planned);
- `state`: `TuneState`, which the rules read and only the loop writes;
- `rules`: each constraint in its own module, applied in the order of `rules.RULES`;
- `loop`: sampling, rollback, retries and streaming.

`bot.generate` is the public face (`compose`, `generate`, the command line).
"""
