"""`python -m lsp_ai`: the app on $APP_HOST:$APP_PORT (for the sidecar) and the ops listener on
$OPS_HOST:$OPS_PORT (readiness and metrics, for the platform), in one process."""

import asyncio

import uvicorn

from lsp_ai.config import load_settings


async def serve() -> None:
    settings = load_settings()
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan=lifespan)
        )
        for app, host, port, lifespan in (
            ("lsp_ai.main:app", settings.app_host, settings.app_port, "on"),
            ("lsp_ai.main:ops", settings.ops_host, settings.ops_port, "off"),
        )
    ]
    await asyncio.gather(*(s.serve() for s in servers))


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
