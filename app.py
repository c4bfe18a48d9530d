"""abc-bot's page: a chat that writes folk tunes in ABC, draws the score and plays it.

    python app.py                      # http://127.0.0.1:7860
    python app.py --host 0.0.0.0 --port 8080
    python app.py --share              # also a public gradio.live link, when the internet allows

Layout (one small function per section) and event wiring only; the handlers are
bot/handlers.py, and what a message means and the reply live in bot/chat/.
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import dataclass

import gradio as gr

from bot import links, page, serving
from bot.compute import ComputeError, inference_path, step_thread
from bot.chat import (
    ACCOMPANIMENTS, AUTO, DEFAULT_ACCOMPANIMENT, INSTRUMENT_CHOICES, KEYS, METERS, OFF, OUTPUTS_DIR, Chat, Session,
)
from bot.handlers import CONTROLS, Handlers
from bot.web.limits import MAX_UPLOAD_BYTES, MESSAGE_BOX_CHARS
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


@dataclass
class ChatColumn:
    """The left column: the chat, the message box and its buttons, the examples, the tunebook."""
    chatbot: gr.Chatbot
    msg: gr.Textbox
    generate: gr.Button
    stop: gr.Button
    tunebook: gr.Button
    tunebook_file: gr.File


@dataclass
class Api:
    """The hidden components behind the API's calls and the tune cards' own calls."""
    compose_in: list[gr.components.Component]
    compose_out: list[gr.components.Component]
    compose_go: gr.Button
    play_in: list[gr.components.Component]
    play_out: list[gr.components.Component]
    play_go: gr.Button
    card: tuple[gr.Textbox, gr.JSON, gr.Button]
    print: tuple[gr.Textbox, gr.JSON, gr.Button]
    musicxml: tuple[gr.Textbox, gr.JSON, gr.Button]
    health: tuple[gr.JSON, gr.Button]
    tunes_in: gr.Textbox


def header(notice: str | None) -> gr.Markdown:
    """The introduction, the start-up notice (abcjs missing) and the health banner (returned)."""
    gr.Markdown(INTRO)
    gr.Markdown(notice or "", visible=bool(notice), elem_id="notice")
    # Shown when the start-up check (Chat.warm_up) failed: the page says so, not only the log.
    return gr.Markdown("", visible=False, elem_id="health-banner")


def chat_column() -> ChatColumn:
    """The chat, the message box with Generate and Stop, the examples and the tunebook button."""
    # No copy button per message: a reply holds its card's data as well as the ABC,
    # and the ABC's own code block has a copy button of its own.
    chatbot = gr.Chatbot(
        elem_id="chat", height=560, show_label=False, buttons=[],
        feedback_options=None, placeholder="Your tunes appear here.",
    )
    with gr.Row():
        msg = gr.Textbox(
            show_label=False, placeholder='"a jig in D", or paste ABC…', lines=1,
            max_lines=12, max_length=MESSAGE_BOX_CHARS, scale=6, elem_id="message",
            autofocus=True,
        )
        generate = gr.Button("Generate", variant="primary", scale=1, min_width=100,
                             elem_id="generate")
        # Shown only while a reply is being written or its audio made (see handlers.to_page).
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
    return ChatColumn(chatbot, msg, generate, stop, tunebook, tunebook_file)


def settings() -> dict[str, gr.components.Component]:
    """The settings column, by the names in handlers.CONTROLS."""
    temperature = gr.Slider(*links.TEMPERATURE_RANGE, value=1.0, step=0.05, label="Temperature",
                            info="Low: safe and repetitive. High: adventurous.", elem_id="temperature")
    bars = gr.Slider(*links.BARS_RANGE, value=0, step=1, label="Length (bars, the whole tune; 0: the rhythm's usual)",
                     info="The whole tune in whole parts, a pasted tune's bars included. 0 lays it out as tunebooks do "
                          "its rhythm: a reel 16 bars (AABB), a waltz 32 (two 16-bar parts).", elem_id="bars")
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
    controls = dict(temperature=temperature, bars=bars, seed=seed, random_seed=random_seed, top_k=top_k,
                    meter=meter, key=key, tempo=tempo, instrument=instrument, accompaniment=accompaniment)
    assert tuple(controls) == CONTROLS, "the settings must match the order handlers.CONTROLS reads"
    return controls


def api_components() -> Api:
    """Hidden components, so API callers get typed inputs and files (and the cards a JSON call)."""
    with gr.Column(visible=False):
        # /compose(prompt, temperature, bars, seed[, accompaniment]) -> (abc, audio, info).
        compose_in = [
            gr.Textbox(label="prompt"),
            gr.Slider(*links.TEMPERATURE_RANGE, value=1.0, label="temperature"),
            gr.Slider(*links.BARS_RANGE, value=0, step=1, label="bars (0: the rhythm's usual)"),
            gr.Number(value=None, precision=0, label="seed"),
            gr.Dropdown(list(ACCOMPANIMENTS), value=OFF, label="accompaniment"),
        ]
        compose_out = [gr.Textbox(label="abc"), gr.Audio(type="filepath", label="audio"), gr.JSON(label="info")]
        compose_go = gr.Button()
        # /play(abc, transpose, tempo, instrument[, accompaniment]): a given tune, no generating.
        play_in = [
            gr.Textbox(label="abc"),
            gr.Number(value=0, label="transpose", info="semitones, -12 to 12"),
            gr.Number(value=0, label="tempo", info="BPM; 0 for the tune's own"),
            gr.Dropdown(list(INSTRUMENT_CHOICES), value=DEFAULT_INSTRUMENT, label="instrument"),
            gr.Dropdown(list(ACCOMPANIMENTS), value=OFF, label="accompaniment"),
        ]
        play_out = [gr.Textbox(label="abc as played"), gr.Audio(type="filepath", label="audio"),
                    gr.File(label="midi"), gr.File(label="pdf")]
        play_go = gr.Button()
        # The tune cards' own calls (bot/web/static/tunes.js): JSON in, JSON out.
        card = (gr.Textbox(), gr.JSON(), gr.Button())
        print_ = (gr.Textbox(), gr.JSON(), gr.Button())
        musicxml = (gr.Textbox(), gr.JSON(), gr.Button())
        # /health(): {"ready", "status", "compute_path"}, ready only after the start-up check passed.
        health = (gr.JSON(), gr.Button())
        tunes_in = gr.Textbox()
    return Api(compose_in, compose_out, compose_go, play_in, play_out, play_go, card, print_, musicxml,
               health, tunes_in)


def wire_chat(demo: gr.Blocks, on: Handlers, capacity: int, chat: ChatColumn, controls: list,
              session: gr.State, autostart: gr.State, banner: gr.Markdown) -> None:
    """The chat's events: a message, a visit (with or without a link), Stop, the tunebook, closing the tab."""
    chat_inputs = [chat.msg, chat.chatbot, session, *controls]
    chat_outputs = [chat.chatbot, session, chat.msg, chat.stop, controls[CONTROLS.index("seed")]]
    running = gr.on(
        [chat.generate.click, chat.msg.submit], on.on_message, chat_inputs, chat_outputs,
        api_name="chat", api_visibility="undocumented", trigger_mode="once",
        show_progress="minimal", show_progress_on=[chat.chatbot],
        concurrency_id="compose", concurrency_limit=capacity,
    )
    loaded = demo.load(on.on_load, None, [chat.msg, *controls, autostart], api_visibility="private", queue=False)
    demo.load(on.on_health_banner, None, [banner], api_visibility="private", queue=False)
    from_link = loaded.then(
        on.on_autostart, [autostart, *chat_inputs], chat_outputs, api_visibility="private",
        show_progress="minimal", show_progress_on=[chat.chatbot],
        concurrency_id="compose", concurrency_limit=capacity,
    )
    chat.stop.click(on.on_stop, [chat.chatbot], [chat.chatbot, chat.stop], cancels=[running, from_link],
                    api_visibility="private", concurrency_limit=None)
    # Typing or pasting a seed unticks "random": bot/web/static/tunes.js, as Gradio's input
    # event on a text box misses a paste.
    demo.unload(on.on_unload)


def wire_api(on: Handlers, bot: Chat, api: Api, chat: ChatColumn) -> None:
    """The API's calls (/compose, /play, /health), the cards' calls and the tunebook download."""
    capacity = bot.capacity
    # Readiness for a host or a load balancer: gradio_client's predict(api_name="/health").
    health_out, health_go = api.health
    health_go.click(bot.health, None, [health_out], api_name="health", concurrency_limit=None)
    # api_description=False: the handlers' docstrings are for readers of the code, not the API page.
    api.compose_go.click(on.on_compose, api.compose_in, api.compose_out, api_name="compose", api_description=False,
                         concurrency_id="compose", concurrency_limit=capacity)
    api.play_go.click(on.on_play, api.play_in, api.play_out, api_name="play", api_description=False,
                      concurrency_id="play", concurrency_limit=capacity)
    card_in, card_out, card_go = api.card
    card_go.click(bot.play_card, [card_in], [card_out], api_name="play_card", api_visibility="undocumented",
                  concurrency_id="play", concurrency_limit=capacity)
    print_in, print_out, print_go = api.print
    print_go.click(bot.print_card, [print_in], [print_out], api_name="print_card",
                   api_visibility="undocumented", concurrency_limit=4)
    musicxml_in, musicxml_out, musicxml_go = api.musicxml
    musicxml_go.click(bot.musicxml_card, [musicxml_in], [musicxml_out], api_name="musicxml_card",
                      api_visibility="undocumented", concurrency_id="play", concurrency_limit=capacity)
    # The tunebook takes every card's ABC as it is now (edits and transpositions included).
    chat.tunebook.click(on.on_tunebook, [api.tunes_in], [chat.tunebook_file],
                        js="() => JSON.stringify(window.abcBotTunes ? window.abcBotTunes() : [])",
                        api_visibility="private")


def build(bot: Chat, notice: str | None = None) -> gr.Blocks:
    """The page, wired to `bot`."""
    on = Handlers(bot)
    with gr.Blocks(title="abc-bot", delete_cache=(600, 3600)) as demo:
        session = gr.State(Session())
        autostart = gr.State(None)  # the link this visit opened with, if any
        banner = header(notice)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = chat_column()
            with gr.Column(scale=2):
                controls = list(settings().values())
        api = api_components()
        wire_chat(demo, on, bot.capacity, chat, controls, session, autostart, banner)
        wire_api(on, bot, api, chat)
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
        print(f"abc-bot: {step_thread().reason}", flush=True)
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
        max_file_size=MAX_UPLOAD_BYTES, app_kwargs=serving.app_kwargs(demo),
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
