"""The geoforensics web app: build the demo, queue it, launch it (``python app.py``).

Server address and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860).
``launch_options()`` carries the offline map outlines (``head``), the upload limit and the styles.
"""

import os

from geoforensics.ui import QUEUE_OPTIONS, build_demo, launch_options

demo = build_demo()

if __name__ == "__main__":
    demo.queue(**QUEUE_OPTIONS).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        **launch_options(),
    )
