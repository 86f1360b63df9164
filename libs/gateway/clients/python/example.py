"""What a program in another language does with a Chronicle app: run it as
`python3 example.py http://localhost:3000/api`. It ships a parcel, sees a
validation error, asks a query and follows the event feed; each step prints
one JSON line (the gateway's test reads them)."""

import json
import sys

from chronicle_gateway import Gateway, Problem


def say(step, value):
    print(json.dumps({"step": step, "value": value}), flush=True)


def main(base_url, events_wanted):
    client = Gateway(base_url)

    result = client.send("ship.ShipParcel", {"parcelId": "py-1", "weightKg": 3}, idempotency_key="py-parcel-1")
    say("sent", result)

    try:
        client.send("ship.ShipParcel", {"parcelId": "", "weightKg": -5})
    except Problem as problem:
        say("refused", {"status": problem.status, "code": problem.code, "fields": sorted(e["field"] for e in problem.errors)})

    say("queried", client.query("ship.CountParcels"))

    seen = []
    for event in client.events(after="beginning", types=["gw.Deposited"]):
        seen.append(event["payload"])
        if len(seen) == events_wanted:
            break
    say("events", seen)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
