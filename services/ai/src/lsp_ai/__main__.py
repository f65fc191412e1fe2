"""`python -m lsp_ai`: serve the app on $APP_HOST:$APP_PORT."""

import uvicorn

from lsp_ai.config import load_settings


def main() -> None:
    settings = load_settings()
    uvicorn.run(
        "lsp_ai.main:app", host=settings.app_host, port=settings.app_port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
