"""A record of how a tenant's concurrency slots were used, and what it says about a run.

A run over the floor K*L/C lost slot time somewhere: slots that sat free between one cmdlet and the next, and
cmdlets refused a moment before a slot freed. Off by default; the benchmark turns it on for its measured runs
(POST /_emulator/slots) and reads the summary afterwards (GET /_emulator/slots).
"""

import bisect
import collections
import time

TAKEN, REFUSED, FREED = "taken", "refused", "freed"
MAX_EVENTS = 200000  # two per cmdlet served, one per refusal; a longer run keeps its last events, marked truncated
EDGE_SECONDS = 2.0  # start and end of a run (slow start, the last answers), left out of the middle's share


class SlotRecord:
    """Every slot taken, refused and freed, with its monotonic time. Its owner (the Gate) holds the lock."""

    def __init__(self, capacity, limit=MAX_EVENTS):
        self.capacity = capacity
        self.events = collections.deque(maxlen=limit)
        self.dropped = False

    def add(self, kind, count=1):
        if len(self.events) + count > self.events.maxlen:
            self.dropped = True
        moment = time.monotonic()
        for _unused in range(count):
            self.events.append((moment, kind))


def summarize(events, capacity, truncated=False, edge=EDGE_SECONDS):
    """What share of the slots' time was used, and how long slots and refused cmdlets waited for each other.

    `events` are (monotonic seconds, kind) in time order. The span runs from the first slot taken to the last
    one freed; the middle leaves out `edge` seconds at both ends when the span is long enough.
    """
    taken = [moment for moment, kind in events if kind == TAKEN]
    freed = [moment for moment, kind in events if kind == FREED]
    refused = [moment for moment, kind in events if kind == REFUSED]
    result = {"capacity": capacity, "taken": len(taken), "refused": len(refused), "truncated": truncated}
    if not taken or not freed or not capacity:
        return result
    start, end = taken[0], freed[-1]
    result.update({
        "span_seconds": round(end - start, 3),
        "used_share": round(_used(events, start, end) / (capacity * (end - start)), 4) if end > start else None,
        "middle_used_share": None,
        "refused_before_free_ms": _percentiles(_waits(refused, freed)),
        "free_before_taken_ms": _percentiles(_waits(freed, taken)),
    })
    if end - start > 3 * edge:
        middle = _used(events, start + edge, end - edge) / (capacity * (end - start - 2 * edge))
        result["middle_used_share"] = round(middle, 4)
    return result


def _used(events, low, high):
    """Slot-seconds in use between `low` and `high`."""
    busy, in_use, last = 0.0, 0, None
    for moment, kind in events:
        if last is not None:
            busy += in_use * max(0.0, min(moment, high) - max(last, low))
        last = moment
        if kind == TAKEN:
            in_use += 1
        elif kind == FREED:
            in_use -= 1
    return busy


def _waits(froms, tos):
    """For each moment in `froms`, the time until the next moment in `tos` (both sorted)."""
    waits = []
    for moment in froms:
        index = bisect.bisect_left(tos, moment)
        if index < len(tos):
            waits.append(tos[index] - moment)
    return waits


def _percentiles(seconds):
    if not seconds:
        return None
    ordered = sorted(seconds)
    return dict(("p%d" % p, round(1000 * ordered[min(len(ordered) - 1, len(ordered) * p // 100)], 3))
                for p in (10, 50, 90, 99))
