#!/usr/bin/env python3
"""Build a reproducible speech corpus from Debian packages (see experiment/README.md).

Synthetic voices (espeak-ng, flite, festival) read sentences taken from the
Debian `fortunes*` packages; recorded human speech shipped by Debian packages
goes to the held-out split only.  Every random choice is drawn up front from
one seeded generator, so the same seed and package versions give the same
files, byte for byte, whatever the number of jobs.

Invoked by make_corpus.sh; python3 standard library plus the tools listed
in make_corpus.sh --packages.
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import wave
from concurrent.futures import ThreadPoolExecutor

SR = 16000
FORTUNES = "/usr/share/games/fortunes"
ESPEAK_VARIANTS_DIR = "/usr/lib/x86_64-linux-gnu/espeak-ng-data/voices/!v"

# ---------------------------------------------------------------- voices
# A "speaker" is the unit that is held out: an espeak-ng variant (timbre,
# whatever the language or accent), a flite voice, a festival voice.  flite
# kal16/festival kal_diphone and flite slt/festival slt-hts are the same
# recorded people, so they are all on the train side.
ESPEAK_HELDOUT = ["f4", "m6", "klatt4", "belinda", "Gene2", "grandma", "iven3", "steph2"]
ESPEAK_SKIP = {"fast", "Mr serious"}          # a test variant; a name with a space
ESPEAK_EN = ["en-us", "en-us", "en-us", "en", "en-gb-x-rp", "en-gb-scotland",
             "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029"]
# espeak-ng language -> fortunes files (relative to /usr/share/games/fortunes)
OTHER_LANGS = {
    "de": ["de/*"], "es": ["es/*.fortunes"], "it": ["it/*"], "pt-br": ["brasil"],
    "pl": ["pl/*"], "ru": ["ru/*"], "cs": ["cs/*"],
}
EN_FORTUNES = ["fortunes", "literature", "wisdom", "people", "humorists", "love",
               "food", "education", "kids", "science", "pets", "work", "platitudes",
               "miscellaneous", "medicine", "law", "magic", "riddles", "goedel",
               "cookie", "songs-poems", "politics", "sports", "pratchett", "adams",
               "computers", "definitions", "zippy", "tao"]
SKIP_FILES = re.compile(r"(asciiart|/art$|banner|/off/|klasik-sk|/sk$|haiku|http|perl|ipv6)")

FLITE = {"kal16": 100.0, "awb": 110.0, "slt": 170.0, "rms": None}   # base f0 (None: ignored)
FESTIVAL = {"kal_diphone": 105.0, "ked_diphone": 105.0, "cmu_us_slt_arctic_hts": None}

TRAIN_MIX = [("espeak-en", 0.42), ("espeak-xx", 0.18), ("flite", 0.22), ("festival", 0.18)]
HELD_SYNTH = {"espeak": ESPEAK_HELDOUT, "flite": ["rms"], "festival": ["ked_diphone"]}


def espeak_variants():
    names = sorted(os.listdir(ESPEAK_VARIANTS_DIR))
    return [n for n in names if n not in ESPEAK_SKIP]


# ---------------------------------------------------------------- text
OK_CHARS = set(" .,;:!?'-\"()")


def clean_cookie(txt):
    lines = []
    for ln in txt.split("\n"):
        s = ln.strip()
        if s.startswith("--") or s.startswith("—") or s.startswith("~"):
            break                                   # attribution follows
        lines.append(s)
    s = " ".join(x for x in lines if x)
    s = s.replace("``", '"').replace("''", '"').replace("’", "'").replace("‘", "'")
    s = s.replace("“", '"').replace("”", '"').replace("„", '"').replace("«", '"').replace("»", '"')
    s = s.replace("–", "-").replace("—", "-").replace("…", "...")
    s = re.sub(r"\s+", " ", s).strip()
    s = re.sub(r"^[^\w\"]+", "", s)               # festival crashes on a leading "..."
    if not s:
        return None
    for ch in s:
        if ch in OK_CHARS or ch.isdigit():
            continue
        if not unicodedata.category(ch).startswith("L"):
            return None
    nw = len(s.split())
    if nw < 4 or nw > 32 or len(s) > 200:
        return None
    if not re.search(r"[.!?\"]$", s):
        s += "."
    if re.search(r"[A-Z]{5,}", s):                  # shouting / acronyms
        return None
    return s


def read_cookies(paths):
    out = set()
    for p in paths:
        try:
            with open(p, "rb") as f:
                raw = f.read()
            txt = raw.decode("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for c in re.split(r"\n%\n", txt):
            s = clean_cookie(c)
            if s:
                out.add(s)
    return sorted(out)


def fortune_files(patterns):
    files = []
    for pat in patterns:
        for p in sorted(glob.glob(os.path.join(FORTUNES, pat))):
            if p.endswith(".dat") or p.endswith(".u8") or os.path.isdir(p):
                continue
            if SKIP_FILES.search(p):
                continue
            rp = os.path.realpath(p)
            if rp not in files:
                files.append(rp)
    return files


def load_texts():
    texts = {"en": read_cookies(fortune_files(EN_FORTUNES))}
    for lang, pats in OTHER_LANGS.items():
        texts[lang] = read_cookies(fortune_files(pats))
    return texts


# ---------------------------------------------------------------- synthesis
def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], r.stderr.decode(errors="replace")[-400:]))
    return r


def synth(job, text, wav, tmp):
    """Synthesize one sentence with the job's engine and parameters to wav (any rate)."""
    eng, p = job["engine"], job["params"]
    tf = os.path.join(tmp, "text.txt")
    with open(tf, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    if eng == "espeak":
        run(["espeak-ng", "-v", p["voice"], "-s", str(p["wpm"]), "-p", str(p["pitch"]),
             "-a", str(p["amp"]), "-g", str(p["gap"]), "-w", wav, "-f", tf])
    elif eng == "flite":
        cmd = ["flite", "-voice", p["voice"], "--setf", "duration_stretch=%.3f" % p["stretch"]]
        if p.get("f0"):
            cmd += ["--setf", "int_f0_target_mean=%.1f" % p["f0"]]
        run(cmd + ["-f", tf, "-o", wav])
    elif eng == "festival":
        v = p["voice"]
        ev = ["-eval", "(voice_%s)" % v]
        if v.endswith("_hts"):
            ev += ["-eval", "(set! hts_engine_params (append hts_engine_params "
                   "(list '(\"-r\" %.3f) '(\"-fm\" %.2f))))" % (1.0 / p["stretch"], p["semitones"])]
        else:
            ev += ["-eval", "(Parameter.set 'Duration_Stretch %.3f)" % p["stretch"],
                   "-eval", "(set! int_lr_params '((target_f0_mean %.1f) (target_f0_std %.1f) "
                   "(model_f0_mean 170) (model_f0_std 34)))" % (p["f0"], p["f0"] * 0.14)]
        run(["text2wave"] + ev + [tf, "-o", wav])
    else:
        raise ValueError(eng)


def to16k(src, dst, speed=1.0):
    """Any audio file -> 16 kHz mono 16-bit, optional speed (tempo+pitch) perturbation."""
    cmd = ["sox", "-R", "-D", "-V1", src, "-b", "16", "-c", "1", "-e", "signed-integer", dst]
    if abs(speed - 1.0) > 1e-6:
        cmd += ["speed", "%.4f" % speed]
    cmd += ["rate", "-v", "16k"]
    run(cmd)


def read_pcm(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == SR and w.getnchannels() == 1 and w.getsampwidth() == 2
        return w.readframes(w.getnframes())


def trim_silence(pcm, thresh=200):
    """Strip leading/trailing near-silence (|x| < thresh) from 16-bit PCM, keep 30 ms."""
    import array
    a = array.array("h")
    a.frombytes(pcm)
    n = len(a)
    i = 0
    while i < n and abs(a[i]) < thresh:
        i += 1
    j = n
    while j > i and abs(a[j - 1]) < thresh:
        j -= 1
    pad = int(0.03 * SR)
    i, j = max(0, i - pad), min(n, j + pad)
    return a[i:j].tobytes()


def finish(pcm, out, gain_db, tmp):
    """Write concatenated PCM, peak-normalize to gain_db dBFS into out."""
    raw = os.path.join(tmp, "cat.wav")
    with wave.open(raw, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    run(["sox", "-R", "-D", "-V1", raw, "-b", "16", out, "norm", "%.2f" % gain_db])
    return len(pcm) / 2 / SR


def render(job):
    """Render one output file; returns (job, seconds, texts used)."""
    tmp = tempfile.mkdtemp(prefix="corpus.")
    try:
        pcm = b""
        used = []
        target = job["target"] * SR * 2
        for k, item in enumerate(job["items"]):
            src = os.path.join(tmp, "s%d.wav" % k)
            if job["engine"] == "human":
                path = item
            else:
                path = os.path.join(tmp, "raw%d.wav" % k)
                try:
                    synth(job, item, path, tmp)
                except RuntimeError as e:   # a crash on one sentence: skip it, say so
                    print("make_corpus: %s: skipped %r: %s" % (job["out"], item, e), file=sys.stderr)
                    continue
            to16k(path, src, job.get("speed", 1.0))
            seg = trim_silence(read_pcm(src))
            if not seg:
                continue
            gap = int(job["pauses"][k] * SR) * 2 if pcm else 0
            if pcm and len(pcm) + gap + len(seg) > job["max"] * SR * 2:
                continue                  # too long to fit: try the next one
            pcm += b"\0" * gap + seg
            used.append(os.path.basename(item) if job["engine"] == "human" else item)
            if len(pcm) >= target:
                break
        if not pcm:
            raise RuntimeError("%s: no audio" % job["out"])
        secs = finish(pcm, job["out"], job["gain"], tmp)
        return job, secs, used
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- planning
def espeak_job(rng, texts, variants, lang=None):
    if lang is None:
        lang = rng.choice(sorted(OTHER_LANGS))
        voice = lang
        ttexts = texts[lang]
    else:
        voice = rng.choice(ESPEAK_EN)
        ttexts = texts["en"]
    var = rng.choice(variants)
    p = {"voice": "%s+%s" % (voice, var), "wpm": rng.randint(120, 210), "pitch": rng.randint(15, 85),
         "amp": rng.randint(60, 160), "gap": rng.choice([0, 0, 0, 1, 2, 3])}
    return {"engine": "espeak", "speaker": "espeak-ng:" + var, "lang": lang or "en",
            "params": p, "speed_desc": "%dwpm" % p["wpm"], "pitch_desc": "p%d" % p["pitch"],
            "texts": ttexts}


def flite_job(rng, texts, voices):
    v = rng.choice(voices)
    p = {"voice": v, "stretch": round(rng.uniform(0.8, 1.25), 3)}
    pd = "default"
    if FLITE[v]:
        p["f0"] = round(FLITE[v] * rng.uniform(0.8, 1.25), 1)
        pd = "f0=%.0f" % p["f0"]
    return {"engine": "flite", "speaker": "flite:" + v, "lang": "en", "params": p,
            "speed_desc": "stretch=%.2f" % p["stretch"], "pitch_desc": pd, "texts": texts["en"]}


def festival_job(rng, texts, voices):
    v = rng.choice(voices)
    p = {"voice": v, "stretch": round(rng.uniform(0.8, 1.25), 3)}
    if FESTIVAL[v]:
        p["f0"] = round(FESTIVAL[v] * rng.uniform(0.8, 1.3), 1)
        pd = "f0=%.0f" % p["f0"]
    else:
        p["semitones"] = round(rng.uniform(-3, 3), 2)
        pd = "%+.1fst" % p["semitones"]
    return {"engine": "festival", "speaker": "festival:" + v, "lang": "en", "params": p,
            "speed_desc": "stretch=%.2f" % p["stretch"], "pitch_desc": pd, "texts": texts["en"]}


def finish_job(rng, job, idx, split, outdir, cursors):
    """Common per-file choices: length, pauses, speed perturbation, level, sentences."""
    job["target"] = round(rng.uniform(10.0, 18.0), 2)
    job["max"] = 20.0
    job["speed"] = round(rng.uniform(0.95, 1.05), 4)
    job["gain"] = round(rng.uniform(-12.0, -1.0), 2)
    texts = job.pop("texts")
    key = job["lang"]
    start = cursors.get(key, 0)
    n = 14
    job["items"] = [texts[(start + i) % len(texts)] for i in range(n)]
    cursors[key] = (start + n) % len(texts)
    job["pauses"] = [round(rng.uniform(0.2, 0.6), 3) for _ in range(n)]
    job["split"] = split
    name = "%s_%05d_%s.wav" % (split, idx, re.sub(r"[^A-Za-z0-9]+", "-", job["speaker"]).strip("-"))
    job["out"] = os.path.join(outdir, split, name)
    return job


def plan_human(rng, outdir, start_idx):
    """Recorded human speech shipped by Debian packages -> heldout (grouped by speaker)."""
    groups = []   # (speaker, lang, clips, number of output files)
    alsa = sorted(f for f in glob.glob("/usr/share/sounds/alsa/*.wav") if "Noise" not in f)
    if alsa:
        groups.append(("alsa-utils:front-center-voice", "en", alsa, 1))
    allison = sorted(glob.glob("/usr/share/asterisk/sounds/en_US_f_Allison/*.wav"))
    if allison:
        groups.append(("asterisk:allison-8khz", "en", allison, 12))
    for d in sorted(glob.glob("/usr/share/ktuberling/sounds/*/")):
        lang = os.path.basename(d.rstrip("/"))
        if "@" in lang:      # sr@latin etc. repeat the sr recordings
            continue
        groups.append(("ktuberling:" + lang, lang, sorted(glob.glob(d + "*.ogg")), 1))
    for d in sorted(glob.glob("/usr/share/klettres/*/")):
        lang = os.path.basename(d.rstrip("/"))
        fs = sorted(glob.glob(d + "*/*.ogg"))
        if fs:
            groups.append(("klettres:" + lang, lang, fs, 1))
    jobs = []
    idx = start_idx
    for speaker, lang, files, nfiles in groups:
        files = files[:]
        rng.shuffle(files)
        for k in range(nfiles):
            chunk = files[k * 40:(k + 1) * 40]   # more clips than needed; render() stops
            if not chunk:
                break
            job = {"engine": "human", "speaker": speaker, "lang": lang, "params": {},
                   "speed_desc": "1", "pitch_desc": "1", "target": round(rng.uniform(10.0, 16.0), 2),
                   "max": 20.0, "speed": 1.0, "gain": round(rng.uniform(-12.0, -1.0), 2),
                   "items": chunk, "pauses": [round(rng.uniform(0.2, 0.6), 3) for _ in chunk],
                   "split": "heldout"}
            job["out"] = os.path.join(outdir, "heldout", "heldout_%05d_%s.wav" % (
                idx, re.sub(r"[^A-Za-z0-9]+", "-", speaker).strip("-")))
            jobs.append(job)
            idx += 1
    return jobs


def plan(args, texts):
    rng = random.Random(args.seed)
    texts = {k: v[:] for k, v in texts.items()}
    for k in sorted(texts):
        rng.shuffle(texts[k])
    variants = espeak_variants()
    train_var = [v for v in variants if v not in ESPEAK_HELDOUT]
    held_var = [v for v in ESPEAK_HELDOUT if v in variants]
    train_flite = [v for v in FLITE if v not in HELD_SYNTH["flite"]]
    train_fest = [v for v in FESTIVAL if v not in HELD_SYNTH["festival"]]
    avg = 15.5
    n_train = max(1, int(round(args.hours * 3600 / avg)))
    n_held = max(1, int(round(args.heldout_minutes * 60 / avg)))
    cursors = {}
    jobs = []
    kinds = [k for k, _ in TRAIN_MIX]
    weights = [w for _, w in TRAIN_MIX]
    for i in range(n_train):
        k = rng.choices(kinds, weights)[0]
        if k == "espeak-en":
            j = espeak_job(rng, texts, train_var, lang="en")
        elif k == "espeak-xx":
            j = espeak_job(rng, texts, train_var)
        elif k == "flite":
            j = flite_job(rng, texts, train_flite)
        else:
            j = festival_job(rng, texts, train_fest)
        jobs.append(finish_job(rng, j, i, "train", args.outdir, cursors))
    for i in range(n_held):
        k = ["espeak-en", "espeak-xx", "flite", "festival"][i % 4]
        if k == "espeak-en":
            j = espeak_job(rng, texts, held_var, lang="en")
        elif k == "espeak-xx":
            j = espeak_job(rng, texts, held_var)
        elif k == "flite":
            j = flite_job(rng, texts, HELD_SYNTH["flite"])
        else:
            j = festival_job(rng, texts, HELD_SYNTH["festival"])
        jobs.append(finish_job(rng, j, i, "heldout", args.outdir, cursors))
    if not args.no_human:
        jobs += plan_human(rng, args.outdir, n_held)
    return jobs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?", default="experiment/corpus")
    ap.add_argument("--hours", type=float, default=2.5, help="train audio, hours (default 2.5)")
    ap.add_argument("--heldout-minutes", type=float, default=10.0,
                    help="synthetic held-out audio, minutes (default 10); human speech is added")
    ap.add_argument("--no-human", action="store_true", help="leave out the recorded human speech")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()

    texts = load_texts()
    for lang, t in sorted(texts.items()):
        if len(t) < 50:
            sys.exit("make_corpus: only %d sentences for %s: are the fortunes packages installed?"
                     % (len(t), lang))
    print("make_corpus: sentences per language: " +
          " ".join("%s=%d" % (k, len(v)) for k, v in sorted(texts.items())), file=sys.stderr)
    jobs = plan(args, texts)
    for sub in ("train", "heldout"):
        d = os.path.join(args.outdir, sub)
        if os.path.isdir(d):
            for f in glob.glob(os.path.join(d, "*.wav")):
                os.remove(f)
        os.makedirs(d, exist_ok=True)
    print("make_corpus: %d files with %d jobs into %s" % (len(jobs), args.jobs, args.outdir),
          file=sys.stderr)
    rows = []
    failed = 0
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for fut in [ex.submit(render, j) for j in jobs]:
            try:
                job, secs, used = fut.result()
            except Exception as e:          # noqa: BLE001 - report and go on
                failed += 1
                print("make_corpus: failed: %s" % e, file=sys.stderr)
                continue
            done += 1
            if done % 100 == 0:
                print("make_corpus: %d/%d" % (done, len(jobs)), file=sys.stderr)
            rows.append((os.path.relpath(job["out"], args.outdir), job["speaker"], job["lang"],
                         job["speed_desc"] + ("" if job["speed"] == 1.0 else ",x%.3f" % job["speed"]),
                         job["pitch_desc"], "%.2f" % secs, job["split"], "%.2f" % job["gain"],
                         " | ".join(used).replace("\t", " ")))
    with open(os.path.join(args.outdir, "MANIFEST.tsv"), "w", encoding="utf-8") as f:
        f.write("path\tvoice\tlanguage\tspeed\tpitch\tseconds\tsplit\tpeak_dbfs\ttext\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    tot = {}
    for r in rows:
        tot[r[6]] = tot.get(r[6], 0.0) + float(r[5])
    print("make_corpus: " + ", ".join("%s %.1f min in %d files" % (
        s, tot[s] / 60, sum(1 for r in rows if r[6] == s)) for s in sorted(tot)), file=sys.stderr)
    if failed:
        sys.exit("make_corpus: %d files failed" % failed)


if __name__ == "__main__":
    main()
