"""A client for Chronicle's HTTP gateway, on the Python standard library only.

    client = Gateway("http://localhost:3000/api")
    result = client.send("orders.PlaceOrder", {"orderId": "o-1", ...}, idempotency_key="o-1")
    order = client.query("orders.GetOrder", {"orderId": "o-1"})
    for event in client.events(after="beginning", types=["orders.OrderPlaced"]):
        print(event["type"], event["payload"])

Failures raise `Problem`, which carries the RFC 9457 problem the gateway
answered (`status`, `code`, `detail`, and for a 400 the failing `errors`).
"""

import json
import urllib.error
import urllib.parse
import urllib.request


class Problem(Exception):
    """A failure the gateway answered as application/problem+json."""

    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('code')}: {body.get('detail')}")
        self.status = status
        self.code = body.get("code")
        self.detail = body.get("detail")
        self.errors = body.get("errors", [])
        self.body = body


class Gateway:
    def __init__(self, base_url, headers=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout

    def send(self, command_type, payload, idempotency_key=None):
        """Sends a command; returns its handler's result."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._post(f"/commands/{command_type}", payload, headers)["result"]

    def query(self, query_type, payload=None):
        """Asks a query; returns its answer."""
        return self._post(f"/queries/{query_type}", payload or {}, {})["result"]

    def events(self, after="now", types=None, last_event_id=None):
        """Yields committed events as they come (a generator that never ends
        by itself). Each event is the feed's JSON with its feed `id` added:
        pass it back as `last_event_id` to resume after it."""
        query = {"after": after}
        if types:
            query["types"] = ",".join(types)
        request = urllib.request.Request(
            f"{self.base_url}/events?{urllib.parse.urlencode(query)}",
            headers={
                **self.headers,
                "Accept": "text/event-stream",
                **({"Last-Event-ID": last_event_id} if last_event_id else {}),
            },
        )
        with self._open(request) as response:
            fields = {}
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "data" in fields:
                        event = json.loads(fields["data"])
                        event["feedId"] = fields.get("id")
                        yield event
                    fields = {}
                elif not line.startswith(":") and ": " in line:
                    name, value = line.split(": ", 1)
                    fields[name] = value

    def _post(self, path, payload, headers):
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(payload).encode("utf-8"),
            method="POST",
            headers={**self.headers, **headers, "Content-Type": "application/json"},
        )
        with self._open(request) as response:
            return json.loads(response.read().decode("utf-8"))

    def _open(self, request):
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8")
            try:
                problem = json.loads(body)
            except ValueError:
                problem = {"code": f"HTTP_{error.code}", "detail": body}
            raise Problem(error.code, problem) from None
