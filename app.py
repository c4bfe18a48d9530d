"""abc-bot's page: a chat that writes folk tunes in ABC, draws the score and plays it.

    python app.py                      # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080
    python app.py --share              # also a public gradio.live link, when the internet allows

Layout and event wiring only; what a message means and the reply live in bot/chat/.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import gradio as gr

from bot import links, page, serving
from bot.compute import ComputeError, inference_path
from bot.chat import (
    ACCOMPANIMENTS, AUTO, DEFAULT_ACCOMPANIMENT, INSTRUMENT_CHOICES, KEYS, METERS, OFF, OUTPUTS_DIR, Chat, ChatError,
    Options, Session,
)
from bot.prompt import MAX_PROMPT_CHARS
from bot.render import DEFAULT_INSTRUMENT

EXAMPLES = [
    "a jig in D",
    "a slow air in G minor",
    "a reel in A dorian",
    "",  # surprise me
    "continue",
    "another",
    "seed 7",
    "X:1\nT:Pasted tune\nM:6/8\nL:1/8\nK:G\nGAB dBG|c2e dBG|GAB dBG|A3 A2D|\n",
    "play\nX:1\nT:The Kesh (as you wrote it)\nM:6/8\nL:1/8\nR:jig\nK:G\n"
    "|:GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdB|1 AGF G2D:|2 AGF G3||\n",
]
EXAMPLE_LABELS = [
    "a jig in D", "a slow air in G minor", "a reel in A dorian", "(empty: surprise me)",
    "continue", "another", "seed 7", "a pasted tune (continue it)", "a pasted tune (play it)",
]

INTRO = """# abc-bot
Type what you'd like (**"a jig in D"**) or paste a tune in ABC, then **Generate**. The tune is
written while you watch, the score is drawn, and it plays with the notes lit as they sound:
transpose it, edit its ABC, print it or share it. Then say **continue**, **another**,
**seed 42**, or ask for something new (**a hornpipe like Ryan's**: each new tune is written
in the manner of one of the collections below); paste a whole tune and say **play** to hear it as it is.

<small>The model learned from old dance tunes and airs free for any use (O'Neill's, Ryan's, Aird's) and the
Nottingham Music Database (Eric Foxley, Jay Glanville, James Allwright); its tunes are yours to use.</small>"""


def build(bot: Chat, notice: str | None = None) -> gr.Blocks:
    """The page, wired to `bot`."""
    with gr.Blocks(title="abc-bot", delete_cache=(600, 3600)) as demo:
        session = gr.State(Session())
        autostart = gr.State(None)  # the link this visit opened with, if any
        gr.Markdown(INTRO)
        gr.Markdown(notice or "", visible=bool(notice), elem_id="notice")
        # Shown when the start-up check (Chat.warm_up) failed: the page says so, not only the log.
        banner = gr.Markdown("", visible=False, elem_id="health-banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                # No copy button per message: a reply holds its card's data as well as the ABC,
                # and the ABC's own code block has a copy button of its own.
                chatbot = gr.Chatbot(
                    elem_id="chat", height=560, show_label=False, buttons=[],
                    feedback_options=None, placeholder="Your tunes appear here.",
                )
                with gr.Row():
                    msg = gr.Textbox(
                        show_label=False, placeholder='"a jig in D", or paste ABC…', lines=1,
                        max_lines=12, max_length=MAX_PROMPT_CHARS, scale=6, elem_id="message",
                        autofocus=True,
                    )
                    generate = gr.Button("Generate", variant="primary", scale=1, min_width=100,
                                         elem_id="generate")
                    # Shown only while a reply is being written or its audio made (see to_page).
                    stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, elem_id="stop",
                                     visible=False)
                gr.Examples(
                    [[e] for e in EXAMPLES], inputs=[msg], example_labels=EXAMPLE_LABELS,
                    label="Try", examples_per_page=len(EXAMPLES),
                )
                with gr.Row():
                    tunebook = gr.Button("Tunebook (.abc): every tune here", size="sm", scale=0,
                                         min_width=200, elem_id="tunebook")
                    tunebook_file = gr.File(label="Tunebook", visible=False, elem_id="tunebook-file", scale=2)
            with gr.Column(scale=2):
                temperature = gr.Slider(*links.TEMPERATURE_RANGE, value=1.0, step=0.05, label="Temperature",
                                        info="Low: safe and repetitive. High: adventurous.", elem_id="temperature")
                bars = gr.Slider(*links.BARS_RANGE, value=16, step=1, label="Length (bars)",
                                 info="The size of the form, in whole parts: 16 bars of a reel is AABB, two 8-bar parts.", elem_id="bars")
                with gr.Row():
                    # A text box, not gr.Number: with "random" ticked it is empty (a Number shows 0),
                    # and after each tune it shows the seed that wrote it.
                    seed = gr.Textbox(value="", label="Seed", placeholder="random", lines=1, max_lines=1,
                                      scale=2, elem_id="seed")
                    random_seed = gr.Checkbox(value=True, label="random", scale=1,
                                              info="a new seed every time", elem_id="random-seed")
                with gr.Accordion("Advanced", open=False):
                    top_k = gr.Slider(*links.TOP_K_RANGE, value=0, step=1, label="Top-k",
                                      info="Sample among the k likeliest characters (0: all).")
                    with gr.Row():
                        meter = gr.Dropdown(list(METERS), value=AUTO, label="Meter")
                        key = gr.Dropdown(list(KEYS), value=AUTO, label="Key")
                    tempo = gr.Slider(0, links.TEMPO_RANGE[1], value=0, step=5, label="Tempo (BPM)",
                                      info="0: the tune's own tempo.")
                    instrument = gr.Dropdown(list(INSTRUMENT_CHOICES), value=DEFAULT_INSTRUMENT,
                                             label="Instrument")
                    accompaniment = gr.Dropdown(
                        # On by default: folk players expect chords under a tune (the API's default stays off).
                        list(ACCOMPANIMENTS), value=DEFAULT_ACCOMPANIMENT, label="Accompaniment", elem_id="accompaniment",
                        info="Chords under the finished tune (added where its bars have none).",
                    )

        # The /compose API: hidden components, so callers get typed inputs and an audio file.
        with gr.Column(visible=False):
            api_prompt = gr.Textbox(label="prompt")
            api_temperature = gr.Slider(*links.TEMPERATURE_RANGE, value=1.0, label="temperature")
            api_bars = gr.Slider(*links.BARS_RANGE, value=16, step=1, label="bars")
            api_seed = gr.Number(value=None, precision=0, label="seed")
            api_accompaniment = gr.Dropdown(list(ACCOMPANIMENTS), value=OFF, label="accompaniment")
            api_abc = gr.Textbox(label="abc")
            api_audio = gr.Audio(type="filepath", label="audio")
            api_info = gr.JSON(label="info")
            api_go = gr.Button()
            # /play(abc, transpose, tempo, instrument[, accompaniment]): a given tune, no generating.
            play_abc = gr.Textbox(label="abc")
            play_transpose = gr.Number(value=0, label="transpose", info="semitones, -12 to 12")
            play_tempo = gr.Number(value=0, label="tempo", info="BPM; 0 for the tune's own")
            play_instrument = gr.Dropdown(list(INSTRUMENT_CHOICES), value=DEFAULT_INSTRUMENT, label="instrument")
            play_accompaniment = gr.Dropdown(list(ACCOMPANIMENTS), value=OFF, label="accompaniment")
            played_abc = gr.Textbox(label="abc as played")
            played_audio = gr.Audio(type="filepath", label="audio")
            played_midi = gr.File(label="midi")
            played_pdf = gr.File(label="pdf")
            play_go = gr.Button()
            # The tune cards' own calls (bot/web/static/tunes.js): JSON in, JSON out.
            card_in = gr.Textbox()
            card_out = gr.JSON()
            card_go = gr.Button()
            print_in = gr.Textbox()
            print_out = gr.JSON()
            print_go = gr.Button()
            musicxml_in = gr.Textbox()
            musicxml_out = gr.JSON()
            musicxml_go = gr.Button()
            # /health(): {"ready", "status", "compute_path"}, ready only after the start-up check passed.
            health_out = gr.JSON()
            health_go = gr.Button()
            tunes_in = gr.Textbox()

        controls = [temperature, bars, seed, random_seed, top_k, meter, key, tempo, instrument, accompaniment]
        chat_inputs = [msg, chatbot, session, *controls]
        chat_outputs = [chatbot, session, msg, stop, seed]

        def read_options(*values):
            try:
                return Options.from_controls(*values)
            except ChatError as err:
                return err

        def to_page(steps, show_seed: bool):
            """The chat's replies as the page's outputs: the message box is cleared once, Stop
            shows until the reply is done, and with "random" ticked the Seed box then shows the
            seed that wrote the tune (empty for a tune no seed wrote)."""
            yield gr.skip(), gr.skip(), gr.skip(), gr.update(visible=True), gr.skip()
            first, last = True, None
            for step in steps:
                yield step.history, step.session, ("" if first else gr.skip()), gr.skip(), gr.skip()
                first, last = False, step
            used = gr.skip()
            if show_seed and last is not None and not last.error:
                used = "" if last.seed is None else str(last.seed)
            # The last step again with Stop hidden: an API caller's final value is the whole chat.
            history, state = (last.history, last.session) if last is not None else (gr.skip(), gr.skip())
            yield history, state, gr.skip(), gr.update(visible=False), used

        # Gradio passes gr.Request only to a named parameter, so each control is named here.
        def on_message(message, history, state, temperature_, bars_, seed_, random_seed_, top_k_,
                       meter_, key_, tempo_, instrument_, accompaniment_, request: gr.Request):
            options = read_options(temperature_, bars_, seed_, random_seed_, top_k_, meter_, key_,
                                   tempo_, instrument_, accompaniment_)
            yield from to_page(bot.reply(message, history, state, options, request.session_hash), bool(random_seed_))

        def on_stop(history, request: gr.Request):
            stopped = bot.stop(request.session_hash, history)
            return (gr.skip() if stopped is None else stopped), gr.update(visible=False)

        def on_load(request: gr.Request):
            link = links.from_query(request.query_params, METERS, KEYS, INSTRUMENT_CHOICES, ACCOMPANIMENTS)
            if link == links.TuneLink():  # an ordinary visit: leave whatever was typed alone
                return [gr.skip()] * (len(controls) + 1) + [None]
            return (
                link.prompt,
                link.temperature,
                link.bars,
                "" if link.seed is None else str(link.seed),
                link.seed is None,
                link.top_k,
                link.meter or AUTO,
                link.key or AUTO,
                link.tempo or 0,
                link.instrument or DEFAULT_INSTRUMENT,
                link.accompaniment or OFF,  # a link without one played the melody alone
                link if link.has_tune() or link.abc or link.problems else None,
            )

        def on_autostart(link, message, history, state, temperature_, bars_, seed_, random_seed_,
                         top_k_, meter_, key_, tempo_, instrument_, accompaniment_, request: gr.Request):
            if link is None:  # an ordinary visit: nothing to bring back
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            options = read_options(temperature_, bars_, seed_, random_seed_, top_k_, meter_, key_,
                                   tempo_, instrument_, accompaniment_)
            yield from to_page(bot.from_link(link, history, state, options, request.session_hash), False)

        def on_compose(prompt, temperature_, bars_, seed_, accompaniment_=OFF, request: gr.Request = None):
            try:
                yield from bot.compose_api(prompt, temperature_, bars_, seed_,
                                           request.session_hash if request else None, accompaniment_)
            except ChatError as err:
                raise gr.Error(str(err), print_exception=False) from None

        def on_play(abc, transpose, tempo_, instrument_, accompaniment_=OFF):
            try:
                played = bot.play_api(abc, transpose, tempo_, instrument_, accompaniment_)
                return tuple(str(v) if isinstance(v, Path) else v for v in played)  # gr.File takes str
            except ChatError as err:
                raise gr.Error(str(err), print_exception=False) from None

        def on_health_banner():
            health = bot.health()
            if health["ready"] or health["status"] == "warming up":
                return gr.update(visible=False)
            return gr.update(value=f"**Not ready:** the start-up check {health['status']}. Tunes can't be "
                                   "written until this is fixed; the server log has the details.", visible=True)

        def on_tunebook(tunes):
            try:
                return gr.File(value=str(bot.tunebook(tunes)), visible=True)
            except ChatError as err:
                raise gr.Error(str(err), print_exception=False) from None

        running = gr.on(
            [generate.click, msg.submit], on_message, chat_inputs, chat_outputs,
            api_name="chat", api_visibility="undocumented", trigger_mode="once",
            show_progress="minimal", show_progress_on=[chatbot],
            concurrency_id="compose", concurrency_limit=bot.capacity,
        )
        loaded = demo.load(on_load, None, [msg, *controls, autostart], api_visibility="private", queue=False)
        demo.load(on_health_banner, None, [banner], api_visibility="private", queue=False)
        # Readiness for a host or a load balancer: gradio_client's predict(api_name="/health").
        health_go.click(bot.health, None, [health_out], api_name="health", concurrency_limit=None)
        from_link = loaded.then(
            on_autostart, [autostart, *chat_inputs], chat_outputs, api_visibility="private",
            show_progress="minimal", show_progress_on=[chatbot],
            concurrency_id="compose", concurrency_limit=bot.capacity,
        )
        stop.click(on_stop, [chatbot], [chatbot, stop], cancels=[running, from_link],
                   api_visibility="private", concurrency_limit=None)
        api_go.click(
            on_compose, [api_prompt, api_temperature, api_bars, api_seed, api_accompaniment],
            [api_abc, api_audio, api_info],
            api_name="compose", concurrency_id="compose", concurrency_limit=bot.capacity,
        )
        play_go.click(
            on_play, [play_abc, play_transpose, play_tempo, play_instrument, play_accompaniment],
            [played_abc, played_audio, played_midi, played_pdf],
            api_name="play", concurrency_id="play", concurrency_limit=bot.capacity,
        )
        card_go.click(bot.play_card, [card_in], [card_out], api_name="play_card", api_visibility="undocumented",
                      concurrency_id="play", concurrency_limit=bot.capacity)
        print_go.click(bot.print_card, [print_in], [print_out], api_name="print_card",
                       api_visibility="undocumented", concurrency_limit=4)
        musicxml_go.click(bot.musicxml_card, [musicxml_in], [musicxml_out], api_name="musicxml_card",
                          api_visibility="undocumented", concurrency_id="play", concurrency_limit=bot.capacity)
        # The tunebook takes every card's ABC as it is now (edits and transpositions included).
        tunebook.click(on_tunebook, [tunes_in], [tunebook_file], js="() => JSON.stringify(window.abcBotTunes ? window.abcBotTunes() : [])",
                       api_visibility="private")
        # Typing or pasting a seed unticks "random": bot/web/static/tunes.js, as Gradio's input
        # event on a text box misses a paste.

        def on_unload(request: gr.Request):
            bot.cancel(request.session_hash)  # closing the tab stops its tune

        demo.unload(on_unload)
    # A bounded queue: beyond it the page answers "busy" at once instead of piling up work.
    demo.queue(max_size=2 * bot.capacity, default_concurrency_limit=2)
    serving.tune_queue(demo)  # poll for queued clicks every 10 ms, not every 1 ms
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=None,
                        help="address to listen on (default 127.0.0.1, or $GRADIO_SERVER_NAME); 0.0.0.0 for all")
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default 7860, or $GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true",
                        help="also make a public gradio.live link (needs the internet)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    serving.tune()  # matplotlib's backend, large file reads
    notice = page.ensure_abcjs()
    if notice:
        print(f"abc-bot: {notice}", file=sys.stderr)
    try:
        print(f"abc-bot: {inference_path().describe()}", flush=True)
    except ComputeError as err:
        print(f"abc-bot: {err}", file=sys.stderr, flush=True)
        return 2
    bot = Chat()
    threading.Thread(target=bot.warm_up, name="warm-up", daemon=True).start()
    # Served straight from disk (no copies in Gradio's cache): abcjs and the per-request outputs.
    gr.set_static_paths([*page.SERVED_DIRS, OUTPUTS_DIR])
    demo = build(bot, notice)
    demo.launch(
        server_name=args.host, server_port=args.port, share=args.share, prevent_thread_lock=True,
        css=page.PAGE_CSS, head=page.page_head(), max_threads=2 * bot.capacity + 8, show_error=False,
    )
    if args.share and not demo.share_url:
        print(
            "\nabc-bot: no public link could be made (this machine cannot reach Gradio's share "
            f"server). The page is still served locally at {demo.local_url}",
            file=sys.stderr, flush=True,
        )
    elif args.share:
        print(f"abc-bot: public link {demo.share_url}", flush=True)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
