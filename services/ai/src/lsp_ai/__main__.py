"""`python -m lsp_ai`: the app on $APP_HOST:$APP_PORT (for the sidecar) and the ops listener on
$OPS_HOST:$OPS_PORT (readiness and metrics, for the platform), in one process."""

import asyncio
from typing import Literal

import uvicorn

from lsp_ai.config import load_settings


async def serve() -> None:
    settings = load_settings()
    # The app runs its lifespan (actor runtime, workers); the ops listener has none of its own.
    listeners: list[tuple[str, str, int, Literal["on", "off"]]] = [
        ("lsp_ai.main:app", settings.app_host, settings.app_port, "on"),
        ("lsp_ai.main:ops", settings.ops_host, settings.ops_port, "off"),
    ]
    # httptools (C) parses HTTP/1.1, not h11 (pure Python): h11's parsing was ~14 % of the host's
    # busy time on a warm actor call (py-spy, bench/ai.ts). Named, so a missing package fails here.
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                http="httptools",
                log_config=None,
                access_log=False,
                lifespan=lifespan,
            )
        )
        for app, host, port, lifespan in listeners
    ]
    await asyncio.gather(*(s.serve() for s in servers))


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
