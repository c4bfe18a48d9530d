"""ABC notation as text: headers and keys, bar arithmetic, syntax masks, parts and form,
transposition. The one place that reads ABC characters; nothing here imports torch or the
model, and nothing here knows the page."""
