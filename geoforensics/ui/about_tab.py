"""The about tab: what the app does, its limits, and where the examples come from."""

from __future__ import annotations

import gradio as gr

from .clip_weights import CLIP_COMMAND
from .limits import limits_text

ABOUT = f"""
### What this does
**geoforensics** answers two questions from sound: *where was this recorded?* and, for a video,
*does this soundtrack belong to the place shown?*

- **Audio**: BirdNET recognises the bird species in each 3 s window; each species' range
  (BirdNET's range model) votes for where they all live together. The result is a probability map,
  a best guess, the top candidate places, and the species behind it.
- **Claims**: type where the clip is said to come from (a place name, found offline, or
  "lat, lon"), click the map, or use the file's own GPS tag. Each claim gets a verdict,
  CONSISTENT, MISMATCH or INCONCLUSIVE, with a mismatch score and the evidence species by species
  (does each bird heard live there? how far is the nearest place it does?), the mains hum against
  the claimed place's grid (50 or 60 Hz), and any point where the soundtrack changes place (a splice).
  This works offline, without CLIP.
- **Image**: the video's frames go through CLIP ViT-L/14 and GeoCLIP. This needs weights that are
  not bundled: press "Download CLIP ViT-L/14" (0.9 GB, checksum verified) or run `{CLIP_COMMAND}`
  once. Without them, the audio side and the claims still work.
- **Verdict**: your claim if you give one, else the file's GPS tag, else the sound against the
  picture: the two guesses compared by great-circle (Haversine) distance and by how much of each
  probability map lies near the other's guess.

### What it never does
Container metadata (GPS tags, titles, dates written in the file) is **shown, never used**: the
predictions see decoded sound and pixels only, so a forged or stripped tag cannot steer them. A GPS
tag is tested as a claim ("the file says ..."), like any other place claimed.

### Limits
{limits_text()} A recording date (YYYY-MM-DD) is optional and sharpens the species ranges.

### The same from Python and the command line
```python
import geoforensics
pred = geoforensics.locate("clip.mp3", date="2024-05-17")   # GeoPrediction: .point, .top_k, .evidence
from geoforensics.forensics.analysis import analyze_media
report = analyze_media("video.mp4", claim="Lihue, Hawaii")  # ForensicReport: .verdict, .claims, .audio, .image
```
```
geoforensics locate clip.mp3          geoforensics analyze video.mp4 --claim "Lihue, Hawaii" \
--json out.json --html map.html
geoforensics check clip.mp3 --claim "22.05,-159.5"
geoforensics app                      # this app
```
Every button is also an API endpoint (see "Use via API" at the bottom of the page).

### Example media
The example recordings come from [Xeno-canto](https://xeno-canto.org) under Creative Commons
BY-NC-SA licences (**not for commercial use**): XC148645 by Patrik Åberg, XC132220 by
Richard E. Webster, XC175831 by Lars Buckx. The demo video combines GeoCLIP's photo of Kauai with
XC169301 (Eurasian Blue Tit, Sweden) by Jelmer Poelstra, CC BY-NC-SA 3.0. See
`examples/ATTRIBUTION.md`. Map outlines: Natural Earth (public domain).
"""


def build_about_tab() -> None:
    """The tab's text (call inside ``gr.Blocks``)."""
    gr.Markdown(ABOUT, elem_classes=["gf-about"])
