"""Plain ASGI middlewares for the app port. Starlette's `@app.middleware("http")`
(BaseHTTPMiddleware) wraps every request in a task group and a streamed response copy; with two of
them, that wrapping was the largest single cost of an order event in this process (py-spy during
`bench/lunch-readmodel.ts`), so the two jobs are written against ASGI directly."""

import hmac
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lsp_ai.metrics import REQUEST_DURATION, REQUESTS


class AppTokenGuard:
    """Only our sidecar may call the app: every HTTP route but `open_paths` needs the app token
    (`dapr-api-token`); an empty expected token refuses everything rather than nothing."""

    def __init__(self, app: ASGIApp, token: str, open_paths: frozenset[str]) -> None:
        self.app = app
        self.token = token.encode()
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"dapr-api-token"), b"")
        if not self.token or not hmac.compare_digest(given, self.token):
            refused = JSONResponse(
                {"error": {"code": "UNAUTHENTICATED", "message": "this route is for the Dapr sidecar only"}},
                status_code=401,
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RedMetrics:
    """HTTP RED metrics (same names as the TypeScript services), labelled by the matched route's
    template (the router writes it into the shared scope), "unmatched" otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            labels = {"method": scope["method"], "route": path, "status": str(status)}
            REQUEST_DURATION.labels(**labels).observe(time.perf_counter() - start)
            REQUESTS.labels(**labels).inc()
