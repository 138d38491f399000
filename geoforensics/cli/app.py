"""``geoforensics app``: the web app (the same demo as ``app.py``)."""

from __future__ import annotations

import argparse
import os

from .options import number

ORDER = 80


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "app",
        help="start the web app (forensics, audio geolocation, multimodal queries)",
        description="Start the Gradio web app. Maps render without network access; models load on first use.",
    )
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=number(int, 1, 65535), default=os.environ.get("GRADIO_SERVER_PORT", "7860"),
                   help="port (default 7860)")
    p.add_argument("--workers", type=number(int, 1, 256), default=None,
                   help="analyses run at once (default $GEOFORENSICS_WORKERS, else half the CPUs, at least 1)")
    p.add_argument("--queue-size", type=number(int, 1, 10_000), default=None,
                   help="analyses that may wait before new ones are turned away (default $GEOFORENSICS_QUEUE_SIZE, "
                        "else 8 per worker, at least 16)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ui import AppLimits, serve  # lazy: loads gradio

    serve(server_name=args.host, server_port=args.port, limits=AppLimits.from_env(args.workers, args.queue_size))
    return 0
