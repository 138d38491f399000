"""Distractors for the claim check: the soundtracks users bring, generated here from a seed.

    .venv/bin/python benchmarks/distractors.py CLIP --kind music --level -6 --profile aac-96k-mono --out mix.mp4

A bird recording is mixed under one *distractor* and packed through a *phone path*:

* ``speech``: a dialogue of two speakers taking turns (Debian ``espeak-ng``, ten languages, male and female
  voice variants, pitch and speed varied), in a small room;
* ``music``: a song written here as MIDI (chord progression, bass line, melody, drums in most seeds; piano, strings,
  guitar, organ, pads, brass ...) rendered by Debian ``fluidsynth`` with the ``fluid-soundfont-gm`` General MIDI font;
* ``traffic``: a street: distant rumble, and cars and lorries passing (engine harmonics with Doppler shift, tyre
  noise, level and pan following the car), now and then a horn;
* ``wind``: gusts (low-frequency turbulence, microphone buffeting) and rustling leaves;
* ``rain``: drops on hard and soft surfaces (thousands of short resonant pings a second) over a hiss;
* ``crowd``: a babble of ten to sixteen talkers (``espeak-ng`` in several languages) in a reverberant hall.

**Level.** ``level_db`` is the bird recording's RMS over the whole clip relative to the distractor's RMS over the
whole clip, both measured on the mono downmix before packing (0 dB: equal energy; -6 dB: the distractor has
four times the bird recording's energy). The bird recording is the Xeno-canto file as it is, with its own
background. The mix is then scaled so its peak is at -1 dBFS.

**Phone path** (:data:`PROFILES`): the mix is encoded by the package's ffmpeg as H.264 video (a small still
picture) with AAC in mp4, or with Opus in Matroska, at 64-128 kb/s, mono or stereo.

Everything is deterministic from the seed (the same espeak-ng and fluidsynth versions give the same bytes).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geoforensics.atomic import atomic_path  # noqa: E402
from geoforensics.errors import GeoforensicsError  # noqa: E402
from geoforensics.ffmpeg import ffmpeg_exe  # noqa: E402

RATE = 48_000
KINDS = ("speech", "music", "traffic", "wind", "rain", "crowd")
LEVELS_DB = (0.0, -6.0, -12.0)
PEAK = 10 ** (-1 / 20)
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
VERSION = "distractors-1"
"""Changes whenever the generator's output changes (cache keys include it)."""


@dataclass(frozen=True)
class Profile:
    """One phone path: codec, bit rate, channels and container."""

    name: str
    codec: str  # "aac" or "opus"
    kbps: int
    channels: int

    @property
    def suffix(self) -> str:
        return ".mp4" if self.codec == "aac" else ".mkv"


PROFILES = {
    p.name: p
    for p in (
        Profile("aac-128k-stereo", "aac", 128, 2),
        Profile("aac-96k-mono", "aac", 96, 1),
        Profile("opus-64k-stereo", "opus", 64, 2),
        Profile("aac-64k-mono", "aac", 64, 1),
        Profile("opus-96k-mono", "opus", 96, 1),
    )
}


def seed_of(*parts: object) -> int:
    """A stable 63-bit seed from any values (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little") >> 1


def rms(x: np.ndarray) -> float:
    """RMS of the mono downmix (mean of the channels of an [n, c] array)."""
    m = x.mean(1) if x.ndim == 2 else x
    return float(np.sqrt(np.mean(np.square(m, dtype=np.float64))))


def db(ratio: float) -> float:
    return float(20 * np.log10(max(ratio, 1e-12)))


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` as [n, 2] float32 with unit RMS of its mono downmix."""
    if x.ndim == 1:
        x = np.stack([x, x], 1)
    r = rms(x)
    return (x / r if r > 0 else x).astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or looped to ``n`` samples."""
    if len(x) >= n:
        return x[:n]
    reps = int(np.ceil(n / max(len(x), 1)))
    return np.concatenate([x] * reps)[:n]


def _bandpass(x: np.ndarray, lo: float | None, hi: float | None, order: int = 4) -> np.ndarray:
    if lo and hi:
        sos = signal.butter(order, [lo, hi], "bandpass", fs=RATE, output="sos")
    elif lo:
        sos = signal.butter(order, lo, "highpass", fs=RATE, output="sos")
    elif hi:
        sos = signal.butter(order, hi, "lowpass", fs=RATE, output="sos")
    else:
        return x
    return signal.sosfilt(sos, x, axis=0)


def _coloured(rng: np.random.Generator, n: int, slope: float) -> np.ndarray:
    """Noise with power ~ 1 / f**slope, unit RMS."""
    f = np.fft.rfft(rng.standard_normal(n))
    f /= np.maximum(np.arange(len(f)), 1.0) ** (slope / 2)
    x = np.fft.irfft(f, n)
    return x / (x.std() + 1e-12)


def _smooth_envelope(rng: np.random.Generator, n: int, seconds: float, floor: float = 0.0) -> np.ndarray:
    """A positive random envelope varying over about ``seconds``, in [floor, 1]."""
    step = max(1, int(seconds * RATE / 4))
    k = n // step + 3
    pts = rng.random(k)
    env = np.interp(np.arange(n) / step, np.arange(k), pts)
    env = signal.sosfiltfilt(signal.butter(2, 1.0 / seconds, fs=RATE, output="sos"), env) if n > 100 else env
    env = (env - env.min()) / (np.ptp(env) + 1e-12)
    return floor + (1 - floor) * env


def _reverb(rng: np.random.Generator, x: np.ndarray, rt60: float, wet: float) -> np.ndarray:
    """A stereo room: ``x`` ([n] or [n, 2]) convolved with decaying decorrelated noise."""
    if x.ndim == 1:
        x = np.stack([x, x], 1)
    m = int(rt60 * RATE)
    t = np.arange(m) / RATE
    decay = np.exp(-6.9 * t / rt60)
    out = np.empty_like(x)
    for c in range(2):
        ir = rng.standard_normal(m) * decay
        ir = _bandpass(ir, None, 6000.0, 2)
        ir /= np.sqrt(np.sum(ir**2)) + 1e-12
        out[:, c] = (1 - wet) * x[:, c] + wet * signal.oaconvolve(x[:, c], ir)[: len(x)]
    return out


def _pan(x: np.ndarray, position: float | np.ndarray) -> np.ndarray:
    """Constant-power pan of mono ``x``: -1 left, +1 right."""
    a = (np.asarray(position) + 1) * np.pi / 4
    return np.stack([x * np.cos(a), x * np.sin(a)], 1)


# ---------------------------------------------------------------- speech


SENTENCES = {
    "en-us": [
        "I told you we should have left before the rain started, but you never listen to me.",
        "The committee will meet again on Thursday to discuss the budget for next year.",
        "Honestly, I have no idea where he went after the meeting, his phone was switched off.",
        "Can you pass me the map? I think we missed the turn about two miles back.",
        "Police say the road will stay closed until the investigation is complete.",
        "We have been walking for hours and I still cannot see the village.",
        "Listen, whatever happens tonight, you stay close to me, do you understand?",
        "The weather service expects strong winds along the coast this afternoon.",
    ],
    "en-gb": [
        "Right, shall we put the kettle on before the others arrive?",
        "The train was delayed again this morning, so I missed the first half of the lecture.",
        "If you look to your left you will see the old castle walls, built in the twelfth century.",
        "I am not saying it was your fault, I am only saying it could have gone better.",
        "Ministers are expected to announce the new measures later this week.",
        "Mind the step, the floor is still wet from the cleaning.",
    ],
    "de": [
        "Wir sollten uns beeilen, der letzte Bus fährt in zehn Minuten.",
        "Die Regierung hat heute neue Maßnahmen zum Klimaschutz vorgestellt.",
        "Ich weiß wirklich nicht, warum er so spät noch angerufen hat.",
        "Kannst du mir bitte sagen, wo der Bahnhof ist? Ich habe mich verlaufen.",
        "Das Wetter soll morgen besser werden, vielleicht gehen wir dann wandern.",
        "Nach Angaben der Polizei wurde niemand verletzt.",
    ],
    "fr-fr": [
        "Tu crois vraiment qu'il va venir ce soir? Il n'a pas répondu à mes messages.",
        "Le gouvernement a annoncé une nouvelle réforme des retraites.",
        "On se retrouve devant la gare à huit heures, d'accord?",
        "Je ne comprends pas pourquoi la route est encore fermée.",
        "Selon les premiers témoignages, l'incendie aurait commencé vers minuit.",
        "Regarde, le soleil se couche derrière les montagnes.",
    ],
    "es": [
        "No puedo creer que hayamos perdido el último tren otra vez.",
        "Las autoridades recomiendan no salir de casa durante la tormenta.",
        "Mira, allí está el mercado del que te hablé ayer.",
        "¿Sabes a qué hora cierra el museo? Quiero verlo antes de irnos.",
        "Según los testigos, el coche salió de la carretera a gran velocidad.",
        "Mañana por la mañana vamos a la playa con los niños.",
    ],
    "it": [
        "Non ho mai visto così tanta gente in piazza come stasera.",
        "Il sindaco ha promesso che i lavori finiranno entro l'estate.",
        "Scusi, sa dirmi dove si trova la fermata dell'autobus?",
        "Secondo le previsioni, domani pioverà su tutto il nord.",
        "Ti avevo detto di portare l'ombrello, ma tu non mi ascolti mai.",
    ],
    "pt-br": [
        "A gente precisa sair agora, senão vamos perder o voo.",
        "O presidente deve se pronunciar sobre o assunto amanhã de manhã.",
        "Olha só quanta gente veio para a festa este ano.",
        "Você viu onde eu deixei as chaves do carro?",
        "As chuvas dos últimos dias deixaram várias estradas interditadas.",
    ],
    "nl": [
        "We moeten opschieten, anders missen we de laatste trein naar huis.",
        "De gemeente wil volgend jaar een nieuwe brug over de rivier bouwen.",
        "Heb jij gezien waar ik mijn jas heb neergelegd?",
        "Volgens de politie is de bestuurder ongedeerd gebleven.",
    ],
    "sv": [
        "Vi borde gå hem innan det börjar regna igen.",
        "Regeringen presenterade i dag ett nytt förslag om skatter.",
        "Vet du när affären stänger i kväll?",
        "Enligt polisen skadades ingen i olyckan.",
    ],
    "pl": [
        "Musimy się pospieszyć, bo spóźnimy się na pociąg.",
        "Rząd zapowiedział nowe przepisy dotyczące transportu publicznego.",
        "Nie wiem, dlaczego on jeszcze nie zadzwonił.",
        "Według policji nikt nie został ranny w wypadku.",
    ],
}
VARIANTS_M = ("m1", "m2", "m3", "m4", "m5", "m7", "klatt", "klatt2")
VARIANTS_F = ("f1", "f2", "f3", "f4", "f5")


@functools.cache
def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise GeoforensicsError("speech distractors need Debian's espeak-ng: apt-get install -y espeak-ng")
    return exe


@functools.lru_cache(maxsize=1024)
def say(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """``text`` spoken by espeak-ng (``voice`` "lang+variant"), mono float at :data:`RATE` (read-only)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run([_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
                       check=True, capture_output=True, timeout=60)
        with wave.open(str(wav)) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    g = np.gcd(RATE, rate)
    y = signal.resample_poly(x, RATE // g, rate // g)
    y.setflags(write=False)
    return y


@dataclass(frozen=True)
class Speaker:
    voice: str
    speed: int
    pitch: int
    lang: str


def _speaker(rng: np.random.Generator, lang: str | None = None) -> Speaker:
    lang = lang or str(rng.choice(sorted(SENTENCES)))
    female = rng.random() < 0.5
    variant = str(rng.choice(VARIANTS_F if female else VARIANTS_M))
    return Speaker(f"{lang}+{variant}", int(rng.integers(135, 195)), int(rng.integers(30, 70)), lang)


def _talk(rng: np.random.Generator, who: Speaker, seconds: float) -> np.ndarray:
    """One talker's stream of sentences with short pauses, at least ``seconds`` long."""
    parts: list[np.ndarray] = []
    total = 0
    sentences = SENTENCES[who.lang]
    while total < seconds * RATE:
        x = say(str(rng.choice(sentences)), who.voice, who.speed, who.pitch)
        gap = np.zeros(int(rng.uniform(0.2, 0.9) * RATE))
        parts += [x, gap]
        total += len(x) + len(gap)
    return np.concatenate(parts)


def speech(seconds: float, seed: int) -> np.ndarray:
    """Two people talking in turns (sometimes a pause, sometimes an overlap) in a small room."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    lang = str(rng.choice(sorted(SENTENCES)))
    a, b = _speaker(rng, lang), _speaker(rng, lang)
    while b.voice == a.voice:
        b = _speaker(rng, lang)
    out = np.zeros((n + 10 * RATE, 2))
    t = int(rng.uniform(0.0, 1.0) * RATE)
    turn = 0
    pans = (rng.uniform(-0.5, -0.1), rng.uniform(0.1, 0.5))
    while t < n:
        who = (a, b)[turn]
        k = int(rng.integers(1, 3))
        x = np.concatenate([say(str(s), who.voice, who.speed, who.pitch)
                            for s in rng.choice(SENTENCES[who.lang], k)])[: len(out) - t]
        out[t: t + len(x)] += _pan(x * rng.uniform(0.7, 1.0), pans[turn])
        t += len(x) + int(rng.uniform(-0.3, 1.2) * RATE)
        turn = 1 - turn
    out = _reverb(rng, out[:n], rng.uniform(0.25, 0.5), rng.uniform(0.15, 0.35))
    return _unit(_bandpass(out, 80.0, None, 2))


def crowd(seconds: float, seed: int) -> np.ndarray:
    """A babble of 10-16 talkers in several languages, in a reverberant hall."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    talkers = int(rng.integers(10, 17))
    out = np.zeros((n, 2))
    for _ in range(talkers):
        x = _talk(rng, _speaker(rng), min(seconds, 12.0) + 1)
        x = np.roll(_fit(x, n), int(rng.integers(0, n)))
        out += _pan(x * rng.uniform(0.3, 1.0), rng.uniform(-0.9, 0.9))
    out = _reverb(rng, out, rng.uniform(0.8, 1.6), rng.uniform(0.4, 0.6))
    return _unit(_bandpass(out, 100.0, None, 2))


# ---------------------------------------------------------------- music


def _varlen(v: int) -> bytes:
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def midi_file(events: Sequence[tuple[int, bytes]], tempo_bpm: float, ticks: int = 480) -> bytes:
    """A format-0 Standard MIDI File from ``(tick, message)`` events (any order)."""
    usec = int(60_000_000 / tempo_bpm)
    track = b"\x00\xff\x51\x03" + usec.to_bytes(3, "big")
    last = 0
    for tick, msg in sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80)):
        track += _varlen(tick - last) + msg
        last = tick
    track += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, ticks) + b"MTrk" + struct.pack(">I", len(track)) + track


PROGRESSIONS = ([0, 7, 9, 5], [2, 7, 0, 0], [9, 5, 0, 7], [0, 5, 7, 5], [9, 7, 5, 4], [0, 9, 5, 7])
"""Chord roots in semitones above the key (I-V-vi-IV, ii-V-I, vi-IV-I-V, ...)."""
MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR_ROOTS = {2, 4, 9}
CHORD_PROGRAMS = (0, 4, 24, 48, 16, 88, 89, 61, 46)
LEAD_PROGRAMS = (73, 40, 65, 80, 71, 56, 11, 0, 25)
BASS_PROGRAMS = (32, 33, 38, 43)


def _note(ev: list[tuple[int, bytes]], ch: int, t: int, dur: int, pitch: int, vel: int) -> None:
    """Append a note's on and off messages to ``ev``."""
    pitch = int(np.clip(pitch, 0, 127))
    ev.append((t, bytes([0x90 | ch, pitch, int(np.clip(vel, 1, 127))])))
    ev.append((t + max(dur, 1), bytes([0x80 | ch, pitch, 0])))


def _chord_bar(ev: list[tuple[int, bytes]], t0: int, chord: list[int], style: int, tpq: int) -> None:
    """One bar of the chord in ``style``: 0 held chords, 1 arpeggios, 2 strummed beats."""
    if style == 0:
        for p in chord:
            _note(ev, 0, t0, 4 * tpq - 20, p, 60)
    elif style == 1:
        for i in range(8):
            _note(ev, 0, t0 + i * tpq // 2, tpq // 2, chord[i % 3] + 12 * (i // 3 % 2), 55)
    else:
        for b in range(4):
            for p in chord:
                _note(ev, 0, t0 + b * tpq, tpq - 40, p, 70 if b % 2 == 0 else 55)


def _melody_bar(rng: np.random.Generator, ev: list[tuple[int, bytes]], t0: int, key: int, pos: int, tpq: int) -> int:
    """One bar of melody, a random walk on the scale resting now and then; returns the walk's last position."""
    t = t0
    while t < t0 + 4 * tpq:
        dur = int(rng.choice([tpq // 2, tpq, tpq, 3 * tpq // 2, 2 * tpq]))
        pos = int(np.clip(pos + rng.integers(-2, 3), -3, 10))
        pitch = 72 + key % 12 + int(MAJOR[pos % 7]) + 12 * (pos // 7)
        if rng.random() > 0.15:
            _note(ev, 1, t, dur - 30, pitch, int(rng.integers(70, 100)))
        t += dur
    return pos


def _drum_bar(ev: list[tuple[int, bytes]], t0: int, bar: int, tpq: int) -> None:
    """One bar of drums: hi-hat on every eighth, kick, snare, an open hi-hat every fourth bar."""
    for b in range(8):
        tt = t0 + b * tpq // 2
        _note(ev, 9, tt, 60, 42, 60 + 20 * (b % 2 == 0))
        if b in (0, 5):
            _note(ev, 9, tt, 80, 36, 100)
        if b in (2, 6):
            _note(ev, 9, tt, 80, 38, 90)
    if bar % 4 == 3:
        _note(ev, 9, t0 + 7 * tpq // 2, 200, 46, 80)


def song(seconds: float, seed: int) -> tuple[bytes, float]:
    """A song as MIDI bytes and its tempo: chords, bass, melody and (in most seeds) drums."""
    rng = np.random.default_rng(seed)
    tpq = 480
    bpm = float(rng.uniform(70, 140))
    key = int(rng.integers(0, 12))
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    drums = rng.random() < 0.75
    beats = int(np.ceil(seconds * bpm / 60)) + 4
    ev: list[tuple[int, bytes]] = []
    for ch, programs in ((0, CHORD_PROGRAMS), (1, LEAD_PROGRAMS), (2, BASS_PROGRAMS)):
        ev.append((0, bytes([0xC0 | ch, int(rng.choice(programs))])))
        ev.append((0, bytes([0xB0 | ch, 10, int(rng.integers(30, 98))])))  # pan
    style = int(rng.integers(3))  # 0 held chords, 1 arpeggios, 2 strummed beats
    pos = int(rng.integers(0, 7))
    for bar in range(beats // 4 + 1):
        root = key + prog[bar % len(prog)]
        minor = prog[bar % len(prog)] in MINOR_ROOTS
        chord = [48 + root, 48 + root + (3 if minor else 4), 48 + root + 7]
        t0 = bar * 4 * tpq
        _chord_bar(ev, t0, chord, style, tpq)
        _note(ev, 2, t0, 2 * tpq - 20, 36 + root, 85)
        _note(ev, 2, t0 + 2 * tpq, 2 * tpq - 20, 36 + root + (7 if rng.random() < 0.5 else 0), 80)
        pos = _melody_bar(rng, ev, t0, key, pos, tpq)
        if drums:
            _drum_bar(ev, t0, bar, tpq)
    return midi_file(ev, bpm, tpq), bpm


@functools.cache
def _fluidsynth() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None or not SOUNDFONT.is_file():
        raise GeoforensicsError("music distractors need Debian's fluidsynth and fluid-soundfont-gm: "
                                "apt-get install -y fluidsynth fluid-soundfont-gm")
    return exe


def available(kind: str) -> bool:
    """Whether the Debian tools a distractor kind needs are here (speech and crowd: espeak-ng; music: fluidsynth
    with the GM font; the rest: nothing)."""
    if kind in ("speech", "crowd"):
        return shutil.which("espeak-ng") is not None
    if kind == "music":
        return shutil.which("fluidsynth") is not None and SOUNDFONT.is_file()
    return True


def render_midi(data: bytes, seconds: float) -> np.ndarray:
    """MIDI bytes rendered by fluidsynth with the General MIDI font: [n, 2] float at :data:`RATE`."""
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        mid.write_bytes(data)
        subprocess.run([_fluidsynth(), "-ni", "-q", "-g", "0.4", "-r", str(RATE), "-T", "wav", "-O", "s16",
                        "-F", str(wav), str(SOUNDFONT), str(mid)], check=True, capture_output=True, timeout=600)
        with wave.open(str(wav)) as w:
            ch = w.getnchannels()
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    return x.reshape(-1, ch)[: int(seconds * RATE)]


def music(seconds: float, seed: int) -> np.ndarray:
    """A song written from the seed and rendered by fluidsynth, looped to ``seconds``."""
    data, _ = song(min(seconds, 120.0), seed)
    x = render_midi(data, min(seconds, 120.0))
    return _unit(_fit(x, int(seconds * RATE)))


# ---------------------------------------------------------------- noise


def traffic(seconds: float, seed: int) -> np.ndarray:
    """A street: rumble, cars and lorries passing (engine harmonics with Doppler, tyre noise), a horn now and then."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    rumble = _bandpass(_coloured(rng, n, 2.0), 20.0, 250.0, 2) * _smooth_envelope(rng, n, 6.0, 0.4)
    out = np.stack([rumble, _bandpass(_coloured(rng, n, 2.0), 20.0, 250.0, 2)], 1) * 0.4
    rate = rng.uniform(0.15, 0.5)  # cars per second
    passes = np.cumsum(rng.exponential(1 / rate, int(seconds * rate * 2) + 4)) - 5
    c = 343.0
    for t0 in passes[passes < seconds + 5]:
        v = rng.uniform(8, 22) * (1 if rng.random() < 0.5 else -1)
        d = rng.uniform(4, 25)
        lorry = rng.random() < 0.2
        x_pos = v * (t - t0)
        r = np.sqrt(d**2 + x_pos**2)
        near = r < 400
        if not near.any():
            continue
        lo, hi = np.where(near)[0][[0, -1]]
        sl = slice(lo, hi + 1)
        radial = v * x_pos[sl] / r[sl]  # positive: moving away
        doppler = c / (c + radial)
        f0 = rng.uniform(20, 35) if lorry else rng.uniform(30, 60)
        phase = 2 * np.pi * np.cumsum(f0 * doppler) / RATE
        harm = sum(np.sin(k * phase + rng.uniform(0, 6.3)) / k**0.8 for k in range(1, 16 if lorry else 10))
        m = hi + 1 - lo
        tyre = _bandpass(_coloured(rng, m, 1.0), 300.0, 4000.0, 2)
        src = (1.5 if lorry else 1.0) * (0.5 * harm / 3 + tyre)
        gain = (5.0 / r[sl]) ** 1.2
        out[sl] += _pan(src * gain, np.clip(x_pos[sl] / 20, -1, 1))
    for _ in range(rng.poisson(seconds / 40)):
        s = int(rng.uniform(0, max(seconds - 1, 0.1)) * RATE)
        m = min(int(rng.uniform(0.3, 0.9) * RATE), n - s)
        tt = np.arange(m) / RATE
        f1, f2 = rng.uniform(380, 440), rng.uniform(470, 520)
        horn = np.sign(np.sin(2 * np.pi * f1 * tt)) + np.sign(np.sin(2 * np.pi * f2 * tt))
        out[s: s + m] += _pan(0.3 * _bandpass(horn, 300.0, 3000.0, 2), rng.uniform(-0.8, 0.8))
    return _unit(out)


def wind(seconds: float, seed: int) -> np.ndarray:
    """Gusts: low-frequency turbulence and microphone buffeting, and leaves rustling with the gusts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    gust = _smooth_envelope(rng, n, rng.uniform(1.5, 4.0), 0.1)
    out = np.zeros((n, 2))
    for c in range(2):
        turb = _bandpass(_coloured(rng, n, 2.0), 15.0, rng.uniform(200, 500), 2) * gust**2
        buffet = np.tanh(3 * _bandpass(rng.standard_normal(n), None, 80.0, 2) * gust**3 * 8) / 3
        leaves = _bandpass(rng.standard_normal(n), 1500.0, 7000.0, 2) * gust**3 * _smooth_envelope(rng, n, 0.1)
        out[:, c] = turb + buffet + rng.uniform(0.1, 0.3) * leaves
    return _unit(out)


def rain(seconds: float, seed: int) -> np.ndarray:
    """Rain: thousands of short resonant drops a second (each channel its own) over a hiss."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    drops_per_s = rng.uniform(300, 3000)
    out = np.zeros((n, 2))
    kernels = []
    for _ in range(8):
        f, tau = rng.uniform(800, 6000), rng.uniform(0.001, 0.008)
        tt = np.arange(int(6 * tau * RATE)) / RATE
        kernels.append(np.sin(2 * np.pi * f * tt * (1 - 0.3 * tt / tt[-1])) * np.exp(-tt / tau))
    for c in range(2):
        k = rng.poisson(drops_per_s * seconds)
        at = rng.integers(0, n, k)
        amp = rng.lognormal(0, 0.8, k)
        which = rng.integers(0, len(kernels), k)
        for j, kern in enumerate(kernels):
            imp = np.zeros(n)
            np.add.at(imp, at[which == j], amp[which == j])
            out[:, c] += signal.oaconvolve(imp, kern)[:n]
        out[:, c] += 0.5 * np.sqrt(drops_per_s / 1000) * _bandpass(_coloured(rng, n, 0.5), 500.0, None, 2)
    return _unit(out)


GENERATORS = {"speech": speech, "music": music, "traffic": traffic, "wind": wind, "rain": rain, "crowd": crowd}


def distractor(kind: str, seconds: float, seed: int) -> np.ndarray:
    """``seconds`` of distractor ``kind`` at :data:`RATE`: [n, 2] float32, unit RMS of its mono downmix."""
    if kind not in GENERATORS:
        raise ValueError(f"distractor kind must be one of {KINDS}, not {kind!r}")
    x = GENERATORS[kind](max(seconds, 0.5), seed)
    return _fit(x, int(round(seconds * RATE))).astype(np.float32)


# ---------------------------------------------------------------- mixing and packing


@dataclass
class Mixture:
    """A bird recording under a distractor: the parts as mixed (already scaled), and the mix, [n, 2] at :data:`RATE`."""

    bird: np.ndarray
    noise: np.ndarray
    mix: np.ndarray
    kind: str
    target_db: float | None

    @property
    def level_db(self) -> float | None:
        """The bird-to-distractor level as mixed (RMS over the clip of the mono downmixes), None when clean."""
        if self.target_db is None:
            return None
        return db(rms(self.bird) / rms(self.noise))


def mix(bird: np.ndarray, noise: np.ndarray | None, level_db: float | None, kind: str = "") -> Mixture:
    """Mono ``bird`` under ``noise`` ([n, 2]) at ``level_db`` (None: the bird alone), scaled to a -1 dBFS peak."""
    b = np.stack([bird, bird], 1).astype(np.float64)
    if noise is None or level_db is None:
        d = np.zeros_like(b)
        kind, level_db = kind or "clean", None
    else:
        d = noise[: len(b)].astype(np.float64)
        d *= rms(b) / max(rms(d), 1e-12) / 10 ** (level_db / 20)
    total = b + d
    g = PEAK / max(float(np.abs(total).max()), 1e-9)
    return Mixture((b * g).astype(np.float32), (d * g).astype(np.float32), (total * g).astype(np.float32),
                   kind, level_db)


def pack(x: np.ndarray, profile: Profile, out: str | Path, timeout_s: float = 600.0) -> Path:
    """Encode ``x`` ([n, 2] at :data:`RATE`) through the phone path ``profile``: AAC in mp4 or Opus in Matroska,
    with a small H.264 picture, written atomically to ``out``."""
    audio = x if profile.channels == 2 else x.mean(1, keepdims=True)
    pcm = np.ascontiguousarray(np.clip(audio, -1, 1), dtype="<f4").tobytes()
    seconds = len(x) / RATE
    acodec = ["-c:a", "aac"] if profile.codec == "aac" else ["-c:a", "libopus", "-application", "audio"]
    with atomic_path(out) as tmp:
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "f32le", "-ar", str(RATE), "-ac", str(profile.channels), "-i", "pipe:0",
               "-f", "lavfi", "-i", f"color=c=0x304030:s=160x90:r=5:d={seconds:.3f}",
               "-map", "1:v", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               *acodec, "-b:a", f"{profile.kbps}k", "-ar", str(RATE), "-ac", str(profile.channels),
               "-shortest", "-map_metadata", "-1", "-bitexact", str(tmp)]
        res = subprocess.run(cmd, input=pcm, capture_output=True, timeout=timeout_s)
        if res.returncode != 0:
            raise GeoforensicsError(f"ffmpeg could not pack the mixture: {res.stderr.decode(errors='replace')[-300:]}")
    return Path(out)


def bird_audio(path: str | Path, max_duration_s: float = 600.0) -> np.ndarray:
    """A recording decoded by the package (never its tags), mono at :data:`RATE`."""
    from geoforensics.audio.decode import decode_audio

    return np.asarray(decode_audio(path, RATE, max_duration_s=max_duration_s), np.float32)


def make_mixture(bird: np.ndarray, kind: str | None, level_db: float | None, seed: int) -> Mixture:
    """``bird`` (mono at :data:`RATE`) under a ``kind`` distractor generated from ``seed`` (None: clean)."""
    if kind is None or kind == "clean" or level_db is None:
        return mix(bird, None, None)
    return mix(bird, distractor(kind, len(bird) / RATE, seed), level_db, kind)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Mix a recording under a generated distractor and pack it like a phone video.")
    ap.add_argument("clip", type=Path, help="a bird recording (any format the package decodes)")
    ap.add_argument("--kind", choices=KINDS, default="music")
    ap.add_argument("--level", type=float, default=-6.0, help="bird-to-distractor level in dB (RMS over the clip)")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="aac-128k-stereo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="the packed file (.mp4 for AAC, .mkv for Opus)")
    args = ap.parse_args(argv)
    m = make_mixture(bird_audio(args.clip), args.kind, args.level, seed_of(args.seed, args.clip.stem, args.kind))
    pack(m.mix, PROFILES[args.profile], args.out)
    print(f"{args.out}: {args.kind} at {m.level_db:+.2f} dB, {PROFILES[args.profile].name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
