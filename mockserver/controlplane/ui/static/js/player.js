// Live playback of a job's fragmented MP4 through Media Source Extensions, while the job still renders.

/** Top-level ISO-BMFF boxes fully present in `bytes`: [{type, start, end}]. */
function boxes(bytes) {
  const out = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    let size = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (size === 1 && pos + 16 <= bytes.length) size = Number(view.getBigUint64(pos + 8));
    if (size < 8 || pos + size > bytes.length) break;
    out.push({ type, start: pos, end: pos + size });
    pos += size;
  }
  return out;
}

function find(bytes, fourcc, from = 0, to = bytes.length) {
  const [a, b, c, d] = [...fourcc].map((ch) => ch.charCodeAt(0));
  for (let i = from; i + 4 <= to; i++) {
    if (bytes[i] === a && bytes[i + 1] === b && bytes[i + 2] === c && bytes[i + 3] === d) return i;
  }
  return -1;
}

function descriptor(bytes, pos) {
  // An MPEG-4 descriptor header: tag, then a size in 1-4 bytes of 7 bits each.
  const tag = bytes[pos++];
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const byte = bytes[pos++];
    size = (size << 7) | (byte & 0x7f);
    if (!(byte & 0x80)) break;
  }
  return { tag, size, body: pos };
}

function aacProfile(bytes, esds, end) {
  // esds: version+flags, ES_Descriptor (0x03), DecoderConfigDescriptor (0x04), DecoderSpecificInfo (0x05).
  let pos = esds + 8;
  const es = descriptor(bytes, pos);
  if (es.tag !== 0x03) return 2;
  const flags = bytes[es.body + 2];
  pos = es.body + 3;
  if (flags & 0x80) pos += 2; // dependsOn_ES_ID
  if (flags & 0x40) pos += 1 + bytes[pos]; // URL
  if (flags & 0x20) pos += 2; // OCR_ES_Id
  const config = descriptor(bytes, pos);
  if (config.tag !== 0x04 || bytes[config.body] !== 0x40) return 2;
  const info = descriptor(bytes, config.body + 13);
  if (info.tag !== 0x05 || info.body >= end) return 2;
  return bytes[info.body] >> 3 || 2;
}

const hex = (n) => n.toString(16).toUpperCase().padStart(2, "0");

/** The MSE type of an init segment, e.g. video/mp4; codecs="avc1.42C01E, mp4a.40.2", read from its moov. */
export function mimeOf(init) {
  const moov = boxes(init).find((box) => box.type === "moov");
  if (!moov) return null;
  const codecs = [];
  const avcC = find(init, "avcC", moov.start, moov.end);
  if (avcC >= 0) codecs.push(`avc1.${hex(init[avcC + 5])}${hex(init[avcC + 6])}${hex(init[avcC + 7])}`);
  const esds = find(init, "esds", moov.start, moov.end);
  if (find(init, "mp4a", moov.start, moov.end) >= 0) codecs.push(`mp4a.40.${esds >= 0 ? aacProfile(init, esds, moov.end) : 2}`);
  return `video/mp4; codecs="${codecs.join(", ")}"`;
}

function concat(chunks) {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let pos = 0;
  for (const chunk of chunks) {
    out.set(chunk, pos);
    pos += chunk.length;
  }
  return out;
}

/**
 * Play `url` (a growing fMP4 stream) in `video` as its bytes arrive.
 * onState({phase, received, buffered, mime, error}) reports progress: connecting, playing, ended, error.
 */
export class LivePlayer {
  constructor(video, url, onState) {
    this.video = video;
    this.url = url;
    this.onState = onState || (() => {});
    this.abort = new AbortController();
    this.pending = [];
    this.received = 0;
    this.done = false;
    this.stopped = false;
    this.source = null;
    this.buffer = null;
  }

  report(phase, extra = {}) {
    if (this.stopped) return;
    const buffered = this.video.buffered.length ? this.video.buffered.end(this.video.buffered.length - 1) : 0;
    this.onState({ phase, received: this.received, buffered, mime: this.mime, ...extra });
  }

  async start() {
    if (!window.MediaSource) {
      this.report("error", { error: "This browser has no Media Source Extensions." });
      return;
    }
    this.source = new MediaSource();
    this.objectUrl = URL.createObjectURL(this.source);
    this.video.src = this.objectUrl;
    await new Promise((resolve) => this.source.addEventListener("sourceopen", resolve, { once: true }));
    this.report("connecting");
    try {
      const response = await fetch(this.url, { signal: this.abort.signal, credentials: "same-origin", cache: "no-store" });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
      }
      const reader = response.body.getReader();
      let head = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.received += value.length;
        if (!this.buffer) {
          head.push(value);
          const init = concat(head);
          const mime = mimeOf(init);
          if (!mime) continue;
          this.open(mime);
          head = null;
          this.pending.push(init);
        } else {
          this.pending.push(value);
        }
        this.pump();
        this.report("playing");
      }
      this.done = true;
      this.pump();
    } catch (error) {
      if (!this.stopped && error.name !== "AbortError") this.report("error", { error: error.message });
    }
  }

  open(mime) {
    this.mime = mime;
    if (!MediaSource.isTypeSupported(mime)) {
      throw new Error(`This browser cannot play ${mime} through Media Source Extensions.`);
    }
    this.buffer = this.source.addSourceBuffer(mime);
    this.buffer.mode = "segments";
    this.buffer.addEventListener("updateend", () => {
      if (this.video.paused && this.video.buffered.length && !this.video.ended) this.video.play().catch(() => {});
      this.pump();
    });
  }

  pump() {
    if (this.stopped || !this.buffer || this.buffer.updating) return;
    if (this.pending.length) {
      const chunk = concat(this.pending);
      this.pending = [];
      try {
        this.buffer.appendBuffer(chunk);
      } catch (error) {
        this.report("error", { error: error.message });
      }
      return;
    }
    if (this.done && this.source.readyState === "open") {
      this.source.endOfStream();
      this.report("ended");
    }
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }
}
