/* abc-bot's tune cards: each tune in the chat gets its own score, player and tools.
 *
 * The server writes a card into the chat message as
 *   <div class="tune-card" id="tune-…"><code class="tune-data">{JSON}</code> …fallback…</div>
 * (Gradio's sanitiser keeps class, id and text but drops data-* attributes, so the tune rides in
 * the text). This script, loaded once in the page's <head>, watches the page for new cards and
 * builds each one: the score drawn by abcjs, an <audio> element playing the server's FluidSynth
 * audio, and controls to transpose, edit and play, print and share the tune.
 *
 * The highlight follows the audio element's own clock: on every animation frame the note whose
 * start time is the last one at or before audio.currentTime is marked, by toggling a class on
 * its SVG elements (no redraw). Start times come from abcjs's TimingCallbacks, which lays out
 * repeats and first/second endings in the order music21 expands them for the audio; they are
 * converted from abcjs's beats to seconds at the tempo the audio was rendered at.
 */
(() => {
  'use strict';
  if (window.__tuneCards) return; // loaded twice (a hot reload): one watcher is enough
  window.__tuneCards = true;

  const PLAYING = 'tc-playing';
  const KEYS = [ // the instruments' keys beside the semitone steps: [value sent to the server, label]
    ['D', 'Fiddle / whistle: D'], ['G', 'Fiddle: G'], ['A', 'Fiddle: A'], ['C', 'Whistle: C'],
    ['Amix', 'Pipes: A mixolydian'], ['Dmix', 'Pipes: D mixolydian'],
  ];
  const MAX_STEPS = 12; // the server moves a tune at most an octave either way
  const SPEEDS = [100, 90, 80, 70, 60, 50]; // per cent of the tune's tempo, for practice
  // The card's sound, changed in place (the tune is played again, not written again): the
  // instruments folk players ask for (any of the server's bot.render.INSTRUMENTS is accepted),
  // and the accompaniments the page offers ('' : the melody alone).
  const SOUNDS = ['fiddle', 'flute', 'whistle', 'accordion', 'concertina', 'piano', 'harp', 'guitar',
    'banjo', 'bagpipes', 'dulcimer', 'clarinet'];
  const BACKINGS = [['', 'no accompaniment'], ['guitar', 'guitar chords'], ['piano', 'piano chords'],
    ['accordion', 'accordion chords']];
  const MIN_TEMPO = 30; // the server's slowest tempo (quarter notes a minute)

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  // Download names, one per file across the page. The server names each file for its tune
  // (the-kesh.pdf) in a folder of its own, so two tunes of one title would both download as
  // the-kesh.pdf, and the browser would make "the-kesh (1).pdf": the second is the-kesh-2.pdf.
  const namesByUrl = new Map();
  const namesTaken = new Set();
  function downloadName(url) {
    if (namesByUrl.has(url)) return namesByUrl.get(url);
    const file = decodeURIComponent(url.split('?')[0].split('/').pop());
    const dot = file.lastIndexOf('.');
    const stem = dot > 0 ? file.slice(0, dot) : file, ext = dot > 0 ? file.slice(dot) : '';
    let name = file;
    for (let n = 2; namesTaken.has(name); n++) name = `${stem}-${n}${ext}`;
    namesTaken.add(name);
    namesByUrl.set(url, name);
    return name;
  }

  // Calls one of the app's Gradio endpoints over its REST API; resolves with the first output.
  async function callEndpoint(name, args) {
    const base = new URL('gradio_api/call/' + name, document.baseURI.split('?')[0].replace(/[^/]*$/, ''));
    const started = await fetch(base, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({data: args}),
    });
    if (!started.ok) throw new Error(`the server said ${started.status}`);
    const {event_id: id} = await started.json();
    const stream = await fetch(`${base}/${id}`);
    const text = await stream.text();
    // Server-sent events: the last "event: complete" carries the outputs as a JSON list.
    let kind = null, payload = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('event:')) kind = line.slice(6).trim();
      else if (line.startsWith('data:')) payload = line.slice(5).trim();
    }
    if (kind !== 'complete') {
      let reason = 'the server could not do that';
      try { const p = JSON.parse(payload); if (p && typeof p === 'string') reason = p; } catch (e) { /* keep */ }
      throw new Error(reason);
    }
    return JSON.parse(payload)[0];
  }

  class Card {
    constructor(el, data) {
      this.el = el;
      this.original = data; // what the chat first gave: "Original" comes back to this
      this.current = data;
      // The ABC that transpositions start from: the tune before any move (a link may arrive
      // already moved), or the person's last edit.
      this.baseAbc = data.base || data.abc;
      this.timeline = []; // [{t: seconds, els: [svg elements], chars: [startChar…], part}] in play order
      this.end = 0; // seconds: where the last note ends (the audio then has a short silent tail)
      this.parts = []; // the tune's parts as written: [{label: 'A', start, end}] in seconds
      this.region = null; // {start, end} in seconds: the part (or the whole tune) being looped
      this.speed = 100; // per cent of the original tempo the audio is rendered at
      this.shown = -1; // index into timeline of the highlighted note
      this.log = null; // [{i, t, clock, at}] per highlight, when a bench asks (window.__tcLog)
      this.build();
      this.show(data, true);
    }

    build() {
      const d = this.original;
      this.el.replaceChildren();
      this.score = h('div', {class: 'tc-score'});
      this.el.append(this.score);
      if (d.live) { // a tune still being written: the score only
        this.el.classList.add('tc-live');
        return;
      }
      this.audio = h('audio', {class: 'tc-audio', controls: true, preload: 'auto'});
      // Transpose: a semitone down or up from where the tune is now, or straight to an
      // instrument's key (a short menu, not a list of every move).
      this.down = h('button', {class: 'tc-down', type: 'button', title: 'Down a semitone',
        'aria-label': 'Transpose down a semitone', onclick: () => this.step(-1)}, '−');
      this.shift = h('span', {class: 'tc-shift', 'aria-live': 'polite'}, 'Original key');
      this.up = h('button', {class: 'tc-up', type: 'button', title: 'Up a semitone',
        'aria-label': 'Transpose up a semitone', onclick: () => this.step(1)}, '+');
      this.transpose = h('select', {class: 'tc-key', title: 'Move to an instrument\'s key',
        'aria-label': 'Move to an instrument\'s key', onchange: () => this.onKey()});
      this.fillKeys();
      this.downloads = h('span', {class: 'tc-downloads'});
      this.linkEl = h('a', {class: 'tc-link'}, 'Link to this tune');
      this.msg = h('div', {class: 'tc-msg', role: 'status'});
      this.editor = h('textarea', {class: 'tc-editor', rows: 8, spellcheck: 'false', 'aria-label': 'ABC of this tune'});
      this.playEdit = h('button', {class: 'tc-play-edit', type: 'button', onclick: () => this.onPlayEdit()}, 'Play this ABC');
      this.editBox = h('div', {class: 'tc-edit-box', hidden: true}, this.editor, this.playEdit);
      const editButton = h('button', {class: 'tc-edit', type: 'button', onclick: () => this.toggleEditor()}, 'Edit ABC');
      this.originalButton = h('button', {class: 'tc-original', type: 'button', hidden: true,
        onclick: () => this.restore()}, 'Original');
      const pdf = h('button', {class: 'tc-pdf', type: 'button', onclick: () => this.onFile('print_card', 'pdf', 'the PDF')}, 'PDF');
      // MusicXML (written by music21 on the server) opens in MuseScore and other notation programs.
      const xml = h('button', {class: 'tc-musicxml', type: 'button', title: 'MusicXML, for MuseScore',
        onclick: () => this.onFile('musicxml_card', 'musicxml', 'the MusicXML')}, 'MusicXML');
      // Practice: loop one part (or the whole tune), and slow it down (re-rendered at the new
      // tempo, so the pitch stays; the highlight runs at the new tempo).
      this.loopSelect = h('select', {class: 'tc-loop', title: 'Loop a part', 'aria-label': 'Loop a part',
        onchange: () => this.onLoop()});
      this.speedSelect = h('select', {class: 'tc-speed', title: 'Speed', 'aria-label': 'Speed',
        onchange: () => this.onSpeed()}, ...SPEEDS.map(p => h('option', {value: String(p)}, `Speed: ${p}%`)));
      this.instrument = d.instrument || 'fiddle';
      this.accompaniment = d.accompaniment || '';
      const sounds = SOUNDS.includes(this.instrument) ? SOUNDS : [this.instrument, ...SOUNDS];
      this.soundSelect = h('select', {class: 'tc-instrument', title: 'Instrument', 'aria-label': 'Instrument',
        onchange: () => this.onSound()}, ...sounds.map(i => h('option', {value: i}, i)));
      this.backingSelect = h('select', {class: 'tc-accompaniment', title: 'Accompaniment',
        'aria-label': 'Accompaniment', onchange: () => this.onSound()},
        ...BACKINGS.map(([v, label]) => h('option', {value: v}, label)));
      this.soundSelect.value = this.instrument;
      this.backingSelect.value = BACKINGS.some(([v]) => v === this.accompaniment) ? this.accompaniment : '';
      // Behind a button, like the editor: on a phone two more menus would push the score out of view.
      this.soundBox = h('div', {class: 'tc-sound', hidden: true}, this.soundSelect, this.backingSelect);
      const soundButton = h('button', {class: 'tc-sound-button', type: 'button', title: 'Instrument and accompaniment',
        'aria-expanded': 'false', onclick: () => {
          this.soundBox.hidden = !this.soundBox.hidden;
          soundButton.setAttribute('aria-expanded', String(!this.soundBox.hidden));
        }}, 'Sound');
      this.el.append(
        h('div', {class: 'tc-bar'}, this.audio),
        h('div', {class: 'tc-tools'},
          h('span', {class: 'tc-steps'}, this.down, this.shift, this.up), this.transpose,
          h('span', {class: 'tc-practice'}, this.loopSelect, this.speedSelect),
          soundButton, editButton, this.originalButton, pdf, xml, this.downloads, this.linkEl),
        this.soundBox, this.msg, this.editBox,
      );
      // The highlight follows the audio clock: every frame while playing, once after a seek.
      this.audio.addEventListener('play', () => this.loop());
      this.audio.addEventListener('seeked', () => this.follow());
      this.audio.addEventListener('timeupdate', () => this.keepInLoop());
      this.audio.addEventListener('pause', () => this.follow());
      this.audio.addEventListener('ended', () => this.mark(-1));
    }

    fillKeys() {
      const opts = [h('option', {value: ''}, 'Key for…')];
      for (const [key, label] of KEYS) opts.push(h('option', {value: 'key:' + key}, label));
      this.transpose.replaceChildren(...opts);
    }

    // The move shown beside the steps and in the key menu.
    showMove(d) {
      const n = d.transpose || 0;
      this.shift.textContent = n ? `${n > 0 ? '+' : '−'}${Math.abs(n)} semitone${Math.abs(n) > 1 ? 's' : ''}` : 'Original key';
      this.down.disabled = n <= -MAX_STEPS;
      this.up.disabled = n >= MAX_STEPS;
      this.transpose.value = d.key ? 'key:' + d.key : '';
    }

    // Shows one version of the tune: its score, audio, downloads and link.
    show(d, first) {
      const before = this.current;
      this.current = d;
      // When the renderer could not expand the repeats, the audio plays the music once straight
      // through: draw it that way too, so the highlight and the score follow what is heard.
      this.draw(d.repeats === false ? withoutRepeats(d.abc) : d.abc, d.tempo);
      if (d.live) return;
      if (!first || this.audio.getAttribute('src') !== d.audio) {
        // A new version while it plays (transposed, edited) goes on from the same moment.
        const wasPlaying = !this.audio.paused && !first;
        // At a new tempo the same place in the music is at another second of the audio.
        const at = this.audio.currentTime * (before && before.tempo && d.tempo ? before.tempo / d.tempo : 1);
        this.mark(-1);
        if (d.audio) this.audio.src = d.audio; else this.audio.removeAttribute('src');
        if (wasPlaying && d.audio) {
          this.audio.addEventListener('loadedmetadata', () => {
            this.audio.currentTime = Math.min(at, this.audio.duration || at);
            this.audio.play().catch(() => {});
          }, {once: true});
        }
      }
      const files = [['abc_url', 'ABC'], ['midi', 'MIDI'], ['wav', 'WAV']];
      this.downloads.replaceChildren(...files.filter(([k]) => d[k]).map(([k, label]) =>
        h('a', {href: d[k], download: downloadName(d[k]), class: 'tc-dl-' + k}, label)));
      this.linkEl.hidden = !d.link;
      if (d.link) this.linkEl.href = '?' + d.link;
      this.originalButton.hidden = d === this.original;
      this.showMove(d);
      this.fillLoop();
      this.speedSelect.value = String(this.speed);
      // The editor holds the ABC that plays now (after a move, or "Original").
      this.editor.value = d.abc;
      this.syncBubble(d);
    }

    // The chat message around the card says what the card plays: its ABC block and the
    // tune's title (a move renames "A jig in D" to "A jig in E").
    syncBubble(d) {
      const bubble = this.el.closest('.message-row') || this.el.parentElement;
      if (!bubble) return;
      const code = [...bubble.querySelectorAll('pre code'), ...bubble.querySelectorAll('pre')]
        .find(el => !this.el.contains(el));
      if (code && d.abc) {
        // The original comes back as the chat first wrote it (a continued tune's block marks
        // where its new music starts); any other version shows its ABC as it plays.
        if (this.bubbleText === undefined) this.bubbleText = code.textContent;
        const text = d === this.original ? this.bubbleText : d.abc.replace(/\s+$/, '') + '\n';
        if (code.textContent !== text) code.textContent = text;
      }
      const title = d.title || this.original.title;
      if (title && this.shownTitle && title !== this.shownTitle) {
        const walker = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
        const old = `“${this.shownTitle}”`;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (!this.el.contains(node) && node.nodeValue.includes(old)) node.nodeValue = node.nodeValue.replace(old, `“${title}”`);
        }
      }
      this.shownTitle = title;
    }

    draw(abc, tempo) {
      this.timeline = [];
      this.shown = -1;
      if (!window.ABCJS) {
        this.score.textContent = 'Sheet music is unavailable: abcjs is not installed on this server.';
        return;
      }
      let text = (abc || '').trim();
      if (!text) return;
      if (!/^X:/m.test(text)) text = 'X:1\n' + text;
      const options = {
        responsive: 'resize', add_classes: true,
        clickListener: this.original.live ? undefined : (elem) => this.onNoteClick(elem),
      };
      const width = this.score.clientWidth;
      if (width && width < 640) {
        // A phone: lay the tune out for the screen (fewer bars a line, notes at a readable
        // size) instead of shrinking a desktop-wide score to fit.
        // abcjs units are drawn at 0.62 of a pixel here: four bars a line still read well.
        options.staffwidth = Math.round(Math.max(200, width - 12) / 0.62);
        options.paddingtop = 0;
        options.paddingbottom = 0;
        options.wrap = {minSpacing: 1.5, maxSpacing: 2.7, preferredMeasuresPerLine: 4};
      }
      let visual;
      try {
        visual = window.ABCJS.renderAbc(this.score, text, options)[0];
      } catch (err) {
        this.score.textContent = 'This score could not be drawn.';
        return;
      }
      if (this.original.live || !visual) return;
      try {
        ({events: this.timeline, end: this.end, parts: this.parts} = timeline(visual, tempo));
      } catch (err) {
        this.timeline = []; // the score still shows; it just is not followed
        this.parts = [];
      }
    }

    // Seconds of audio -> the last note that has started by then; highlight it.
    follow() {
      const t = this.audio.currentTime;
      const tl = this.timeline;
      let lo = 0, hi = tl.length - 1, found = -1;
      while (lo <= hi) { // binary search: the page stays light however long the tune
        const mid = (lo + hi) >> 1;
        if (tl[mid].t <= t + 0.001) { found = mid; lo = mid + 1; } else hi = mid - 1;
      }
      if (this.audio.ended) found = -1;
      this.mark(found);
    }

    loop() {
      if (this.looping) return;
      this.looping = true;
      const step = () => {
        this.keepInLoop();
        this.follow();
        if (this.audio.paused || this.audio.ended) { this.looping = false; return; }
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }

    // Looping: past the region's end (or before its start), back to its start. Checked every
    // frame while playing, and on the audio's own time updates where frames stop (a hidden tab).
    keepInLoop() {
      const r = this.region;
      if (r && !this.audio.paused && (this.audio.currentTime >= r.end || this.audio.currentTime < r.start - 0.25)) {
        this.audio.currentTime = r.start;
      }
    }

    mark(i) {
      if (i === this.shown) return;
      const old = this.timeline[this.shown];
      if (old) for (const el of old.els) el.classList.remove(PLAYING);
      this.shown = i;
      const now = this.timeline[i];
      if (now) for (const el of now.els) el.classList.add(PLAYING);
      if (window.__tcLog && i >= 0) {
        (this.log = this.log || []).push({i, t: now.t, clock: this.audio.currentTime, at: performance.now()});
      }
    }

    // A click on a note plays from there (the first time it sounds at or after the clock).
    onNoteClick(elem) {
      if (!this.audio || !this.timeline.length || elem.startChar === undefined) return;
      const hits = this.timeline.filter(ev => ev.chars.includes(elem.startChar));
      if (!hits.length) return;
      const now = this.audio.currentTime;
      const at = (hits.find(ev => ev.t >= now - 0.01) || hits[0]).t;
      this.audio.currentTime = at;
      this.follow();
      this.audio.play().catch(() => {});
    }

    say(text, isError) {
      this.msg.textContent = text || '';
      this.msg.classList.toggle('tc-error', !!isError);
    }

    async request(body, what) {
      this.say(what + '…');
      this.el.classList.add('tc-busy');
      try {
        const out = await callEndpoint('play_card', [JSON.stringify(body)]);
        if (out.error) {
          this.say(out.error, true);
          return null;
        }
        this.say(out.notes || '');
        return out;
      } catch (err) {
        this.say('Sorry, that did not work: ' + err.message, true);
        return null;
      } finally {
        this.el.classList.remove('tc-busy');
      }
    }

    settings() {
      const o = this.original;
      const tempo = Math.max(MIN_TEMPO, Math.round(o.tempo * this.speed / 100));
      return {tempo, instrument: this.instrument || o.instrument, accompaniment: this.accompaniment || null,
        title: o.title || ''};
    }

    // The loop menu: the whole tune and each part as written (A, B, …), kept across redraws.
    fillLoop() {
      const chosen = this.loopSelect.value || '';
      const opts = [h('option', {value: ''}, 'Loop: off')];
      if (this.timeline.length) opts.push(h('option', {value: 'all'}, 'Loop: all'));
      if (this.parts.length > 1) for (const p of this.parts) opts.push(h('option', {value: p.label}, `Loop: ${p.label}`));
      this.loopSelect.replaceChildren(...opts);
      this.loopSelect.value = [...this.loopSelect.options].some(o => o.value === chosen) ? chosen : '';
      this.setRegion(false);
    }

    setRegion(jump) {
      const v = this.loopSelect.value;
      const part = this.parts.find(p => p.label === v);
      this.region = v === 'all' ? {start: 0, end: this.end} : part ? {start: part.start, end: part.end} : null;
      if (jump && this.region) {
        this.audio.currentTime = this.region.start;
        this.follow();
      }
    }

    onLoop() {
      this.setRegion(true);
      if (this.region) this.audio.play().catch(() => {});
    }

    // Another instrument or accompaniment for the same tune: played again where it is now
    // (moved, slowed, edited), and its link carries the choice.
    async onSound() {
      const before = [this.instrument, this.accompaniment];
      this.instrument = this.soundSelect.value;
      this.accompaniment = this.backingSelect.value;
      const c = this.current;
      const move = c.key ? {key: c.key} : {transpose: c.transpose || 0};
      const out = await this.request({...this.settings(), abc: this.baseAbc, ...move},
        `Playing it on ${this.instrument}${this.accompaniment ? ' with ' + this.accompaniment + ' chords' : ''}`);
      if (out) this.show(out);
      else {
        [this.instrument, this.accompaniment] = before;
        this.soundSelect.value = this.instrument;
        this.backingSelect.value = this.accompaniment;
      }
    }

    async onSpeed() {
      const speed = Number(this.speedSelect.value);
      const previous = this.speed;
      this.speed = speed;
      const c = this.current;
      const move = c.key ? {key: c.key} : {transpose: c.transpose || 0};
      const out = await this.request({...this.settings(), abc: this.baseAbc, ...move},
        speed === 100 ? 'Back to full speed' : `Slowing down to ${speed}%`);
      if (out) this.show(out); else { this.speed = previous; this.speedSelect.value = String(previous); }
    }

    // One semitone down (-1) or up (+1) from the move shown now.
    step(by) {
      const n = Math.max(-MAX_STEPS, Math.min(MAX_STEPS, (this.current.transpose || 0) + by));
      return this.moveTo({transpose: n});
    }

    onKey() {
      const value = this.transpose.value;
      if (value.startsWith('key:')) return this.moveTo({key: value.slice(4)});
      return this.moveTo({transpose: 0});
    }

    async moveTo(move) {
      const fromOriginal = this.baseAbc === (this.original.base || this.original.abc);
      if (!move.key && move.transpose === (this.original.transpose || 0) && !this.original.key && fromOriginal) {
        this.restore(); // the original is one click away, with no new render
        return;
      }
      const out = await this.request({...this.settings(), abc: this.baseAbc, ...move}, 'Transposing');
      if (out) this.show(out); else this.showMove(this.current);
    }

    toggleEditor() {
      this.editBox.hidden = !this.editBox.hidden;
      if (!this.editBox.hidden) this.editor.focus();
    }

    async onPlayEdit() {
      const edited = this.editor.value;
      const out = await this.request({...this.settings(), abc: edited, transpose: 0}, 'Playing your edit');
      if (out) {
        // The edit is the tune that transposes from here; "Original" still brings back the first.
        this.baseAbc = edited;
        this.show(out);
      }
    }

    restore() {
      this.say('');
      this.speed = 100;
      this.instrument = this.original.instrument || 'fiddle';
      this.accompaniment = this.original.accompaniment || '';
      this.soundSelect.value = this.instrument;
      this.backingSelect.value = this.accompaniment;
      this.baseAbc = this.original.base || this.original.abc;
      this.show(this.original);
    }

    // A file the server makes on request from the ABC as it plays now (the PDF, the MusicXML):
    // fetched, then downloaded.
    async onFile(endpoint, kind, what) {
      this.say(`Making ${what}…`);
      try {
        const out = await callEndpoint(endpoint, [this.current.abc]);
        if (out.error) { this.say(out.error, true); return; }
        this.say('');
        const a = h('a', {href: out[kind], download: downloadName(out[kind])});
        document.body.append(a);
        a.click();
        a.remove();
        this.current[kind] = out[kind];
      } catch (err) {
        this.say(`Sorry, ${what} could not be made: ` + err.message, true);
      }
    }
  }

  // abcjs's note events in play order (repeats and endings laid out), with start times in
  // seconds of audio. abcjs counts beats of the meter (a dotted quarter in 6/8); the audio's
  // tempo is quarter notes a minute, so go through whole notes: measures x bar length.
  function timeline(visual, tempo) {
    const timer = new window.ABCJS.TimingCallbacks(visual, {qpm: 120});
    const bar = visual.getBarLength() || 1;
    const seconds = (ms, perMeasure) => ms / perMeasure * bar * 240 / tempo;
    const ranges = partRanges(visual);
    const events = [];
    let end = 0;
    for (const ev of timer.noteTimings) {
      if (!ev.millisecondsPerMeasure) continue;
      if (ev.type === 'end') { end = seconds(ev.milliseconds, ev.millisecondsPerMeasure); continue; }
      if (ev.type !== 'event') continue;
      const els = [];
      for (const group of ev.elements || []) for (const el of group || []) if (el && el.classList) els.push(el);
      const chars = ev.startCharArray && ev.startCharArray.length ? ev.startCharArray : [ev.startChar];
      const part = ranges.findIndex(([from, to]) => chars[0] >= from && chars[0] < to);
      events.push({t: seconds(ev.milliseconds, ev.millisecondsPerMeasure), els, chars, part});
    }
    if (timer.stop) timer.stop();
    if (!end && events.length) end = events[events.length - 1].t;
    return {events, end, parts: partTimes(events, end, bar * 240 / tempo)};
  }

  // The tune's parts as written: [from, to) character ranges of its ABC, cut at the section bar
  // lines (|:, :|, ::, ||, |]) of the melody, but not where a later ending starts (:|2 goes on
  // in the same part).
  function partRanges(visual) {
    const cuts = [];
    for (const line of visual.lines || []) {
      const voice = line.staff && line.staff[0] && line.staff[0].voices && line.staff[0].voices[0];
      for (const el of voice || []) {
        if (el.el_type !== 'bar' || el.type === 'bar_thin' || el.type === 'bar_invisible') continue;
        if (el.startEnding && !String(el.startEnding).startsWith('1')) continue;
        cuts.push(el.endChar);
      }
    }
    const ranges = [];
    let from = 0;
    for (const cut of cuts) { if (cut > from) ranges.push([from, cut]); from = cut; }
    ranges.push([from, Infinity]);
    return ranges;
  }

  // Each part's span of the audio: from its first note to the first note of the next part
  // played after it (the part's repeat included), or to the end of the tune. A pickup shorter
  // than a bar before a part is part of it.
  function partTimes(events, end, barSeconds) {
    const spans = [];
    for (let i = 0; i < events.length;) {
      const part = events[i].part;
      let j = i;
      while (j < events.length && events[j].part === part) j++;
      const stop = j < events.length ? events[j].t : end;
      const seen = spans.find(s => s.part === part);
      if (!seen) spans.push({part, start: events[i].t, end: stop});
      i = j;
    }
    const merged = [];
    for (const s of spans) {
      const last = merged[merged.length - 1];
      if (last && last.end - last.start < barSeconds * 0.99 && last.end === s.start) { last.end = s.end; continue; }
      merged.push({...s});
    }
    return merged.length > 1 ? merged.map((s, n) => ({label: String.fromCharCode(65 + n), start: s.start, end: s.end})) : [];
  }

  // The tune with repeat signs and ending brackets made plain bar lines (as the renderer's
  // fallback plays it: once through, both endings in turn). Fields and quoted text are kept.
  function withoutRepeats(abc) {
    const lines = abc.split('\n');
    let body = false;
    return lines.map(line => {
      if (/^[A-Za-z]:/.test(line)) { body = body || line.startsWith('K:'); return line; }
      if (!body) return line;
      return line.split(/("[^"]*")/).map((part, i) => i % 2 ? part : part
        .replace(/:*\|\]/g, m => m.replace(/:/g, ''))
        .replace(/:+\|+:+|::+/g, '||')
        .replace(/:+(\|+)/g, '$1')
        .replace(/(\|+):+/g, '$1')
        .replace(/(\|+)\s*\[?\d(?:[,-]\d)*/g, '$1')
        .replace(/\[\d(?:[,-]\d)*/g, '')).join('');
    }).join('\n');
  }
  window.abcBotWithoutRepeats = withoutRepeats;

  function hydrate(el) {
    el.setAttribute('data-ready', '1');
    const source = el.querySelector('.tune-data');
    if (!source) return;
    let data;
    try { data = JSON.parse(source.textContent); } catch (err) { return; }
    try {
      el.__card = new Card(el, data);
    } catch (err) {
      console.error('tune card', err);
    }
  }

  function scan() {
    for (const el of document.querySelectorAll('.tune-card:not([data-ready])')) hydrate(el);
  }

  // Cards arrive inside chat messages at any time; build each as soon as it is in the page
  // (the observer runs before the next paint, so a streamed score never flickers empty).
  new MutationObserver(scan).observe(document.documentElement, {childList: true, subtree: true});
  if (document.readyState !== 'loading') scan(); else document.addEventListener('DOMContentLoaded', scan);

  // Typing or pasting a seed means "use this one": untick "random". (Gradio's own input event
  // on a text box misses a paste.)
  // Just after the page loads, Gradio may still be setting its components up: a click on the
  // box then was undone (the tune got a random seed in 2 of 7 runs), and so may the typed text
  // be. So for a few seconds after each seed typed, the page keeps the two as the person left
  // them, until they tick "random" themselves.
  let typed = null;  // {value, until}: the seed last typed and how long to keep it
  function keepTypedSeed() {
    if (!typed || Date.now() > typed.until) return;
    const input = document.querySelector('#seed input, #seed textarea');
    const tick = document.querySelector('#random-seed input[type=checkbox]');
    if (input && input.value !== typed.value && input.value.trim() === '') {
      input.value = typed.value;  // cleared by the page's set-up, not by the person
      input.dispatchEvent(new Event('input', {bubbles: true}));
    }
    if (tick && tick.checked && input && input.value.trim() !== '') tick.click();
    setTimeout(keepTypedSeed, 100);
  }
  document.addEventListener('input', (event) => {
    const box = event.target && event.target.closest && event.target.closest('#seed');
    if (!box || !event.isTrusted) return;
    const value = String(event.target.value || '');
    typed = value.trim() !== '' ? {value, until: Date.now() + 3000} : null;
    keepTypedSeed();
  }, true);
  // The person's own click on "random" ends the keeping at once.
  document.addEventListener('click', (event) => {
    if (event.isTrusted && event.target.closest && event.target.closest('#random-seed')) typed = null;
  }, true);

  // Every tune on the page, as it is now (edited or transposed), for the tunebook.
  window.abcBotTunes = () => [...document.querySelectorAll('.tune-card')]
    .map(el => el.__card && !el.__card.original.live ? el.__card.current.abc : null)
    .filter(Boolean);
})();
