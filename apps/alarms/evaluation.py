"""Alarm evaluation on the telemetry pump's per-tick snapshot: no InfluxDB reads of its own.

``Evaluator.judge`` decides, per rule, whether its condition holds now, with hysteresis
(raise past ``threshold``, clear only back past ``clear_at``), a ``for_seconds`` delay
before raising, rates over a window, staleness, bands with "while" conditions and
compound conditions. It keeps only what a judgement needs between ticks (the hysteresis
side, since when a condition has held or been clear, recent values for rates).

``evaluate`` (the pump handler) then reconciles the judgements with the open alarms in
the database, which stay the truth: a restart neither duplicates nor loses an alarm,
and notifications follow transitions, never ticks. Stale readings are never judged (the
stale-data rules speak for them), so a frozen value neither raises nor clears anything.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from apps.telemetry.live import SiteReadings, Snapshot

from .choices import OPEN_STATES, RuleKind
from .models import Alarm, AlarmRule

log = logging.getLogger(__name__)

RESOLVE_AFTER_S = 60  # a cleared condition resolves its alarm after staying clear this long
RULES_REFRESH_S = 10
UNLESS_KEYS = 1000  # rate histories of an "unless"'s conditions: keys apart from the rule's own


def _number(value) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


@dataclass
class Judgement:
    active: bool | None  # None: cannot tell (no fresh data): change nothing
    value: float | None = None
    detail: str = ""


@dataclass
class RuleMemory:
    active: bool = False
    pending_since: float | None = None  # condition seen, waiting for for_seconds
    clear_since: float | None = None
    history: dict[int, deque] = field(default_factory=dict)  # condition index (-1: main) -> (t_s, value)


class Evaluator:
    def __init__(self, *, stale_after_s: float | None = None) -> None:
        self.memory: dict[int, RuleMemory] = {}
        self.stale_after_s = stale_after_s if stale_after_s is not None else settings.HEATOPS_STALE_AFTER_S

    # reading the snapshot ------------------------------------------------------------

    def _read(self, readings: SiteReadings, measurement: str, fld: str, tags: dict, now_s: float):
        reading = readings.one(measurement, **(tags or {}))
        if reading is None or fld not in reading.fields:
            return None, None
        return _number(reading.fields[fld]), reading.time_of(fld) / 1000

    def _rate(self, mem: RuleMemory, key: int, t: float, value: float, window_s: float) -> float | None:
        hist = mem.history.setdefault(key, deque())
        if not hist or t > hist[-1][0]:
            hist.append((t, value))
        while hist and hist[0][0] < t - window_s:
            hist.popleft()
        if len(hist) < 2 or hist[-1][0] - hist[0][0] < window_s / 3:
            return None
        (t0, v0), (t1, v1) = hist[0], hist[-1]
        return (v1 - v0) / ((t1 - t0) / 60)

    def _condition(
        self, rule: AlarmRule, mem: RuleMemory, index: int, c: dict, readings, now_s, said: list | None = None
    ) -> bool | None:
        """Whether condition ``c`` holds; what it found is appended to ``said`` in words."""
        value, t = self._read(readings, c["measurement"], c["field"], c.get("tags") or {}, now_s)
        if value is None or now_s - t > self.stale_after_s:
            return None
        op, target = c["op"], float(c["value"])
        name = f"{c['measurement']}.{c['field']}"
        if op in {"rising", "falling", "steady"}:
            rate = self._rate(mem, index, t, value, rule.rate_window_s)
            if rate is None:
                return None
            held = (
                rate > target
                if op == "rising"
                else rate < -target
                if op == "falling"
                else abs(rate) <= target
            )
            if said is not None:
                bound = f"within ±{target:g}/min" if op == "steady" else f"over {target:g}/min"
                said.append(f"{name} {op} {rate:+.2f}/min ({bound})")
            return held
        held = {">": value > target, "<": value < target, ">=": value >= target, "<=": value <= target}[op]
        if said is not None:
            said.append(f"{name} = {value:g} ({op} {target:g})")
        return held

    def _unless(
        self, rule: AlarmRule, mem: RuleMemory, index: int, conditions: list, readings, now_s
    ) -> bool:
        """A compound rule's "unless": False (the rule does not fire) while every one of
        ``conditions`` holds, the safe state it names working as designed; True otherwise,
        also when one of them cannot be judged (no data: the safe state is not shown)."""
        held = [
            self._condition(rule, mem, UNLESS_KEYS * (index + 1) + j, c, readings, now_s)
            for j, c in enumerate(conditions)
        ]
        return not all(h is True for h in held)

    def _whiles(self, rule: AlarmRule, mem: RuleMemory, readings, now_s) -> bool:
        """Whether every "while" condition of a stale rule holds (none: True). One that
        cannot be judged, its own data stale, does not hold."""
        return all(
            self._condition(rule, mem, i, c, readings, now_s) is True for i, c in enumerate(rule.conditions)
        )

    # judging ------------------------------------------------------------------------

    def _raw(self, rule: AlarmRule, mem: RuleMemory, readings: SiteReadings, now_s: float) -> Judgement:
        kind = rule.kind
        if kind == RuleKind.STALE:
            # "while" conditions: judged only while they hold, e.g. while the rest of the
            # site reports (a silent site is its own alarm, not one per server)
            if not self._whiles(rule, mem, readings, now_s):
                return Judgement(None)
            value, t = self._read(readings, rule.measurement, rule.field, rule.tags, now_s)
            if t is None:
                # with "while" conditions the rule is about a series that stopped while the
                # others go on: one never seen (nothing in the pump's first read, 7 d back)
                # is not instrumented, not stopped
                return Judgement(None) if rule.conditions else Judgement(True, None, "no data at all")
            age = now_s - t
            return Judgement(age > rule.stale_after_s, age, f"last reading {age:.0f} s ago")
        if kind == RuleKind.COMPOUND:
            said: list[str] = []
            results = [
                self._unless(rule, mem, i, c["unless"], readings, now_s)
                if "unless" in c
                else self._condition(rule, mem, i, c, readings, now_s, said)
                for i, c in enumerate(rule.conditions)
            ]
            if any(r is None for r in results):
                return Judgement(None)
            return Judgement(all(results), None, "; ".join(said) if all(results) else "")

        value, t = self._read(readings, rule.measurement, rule.field, rule.tags, now_s)
        if value is None or now_s - t > self.stale_after_s:
            return Judgement(None)
        label = f"{rule.measurement}.{rule.field} = {value:g}"
        if kind == RuleKind.ABOVE:
            clear = rule.clear_at if rule.clear_at is not None else rule.threshold
            active = value > clear if mem.active else value > rule.threshold
            return Judgement(active, value, f"{label} (raises above {rule.threshold:g}, clears at {clear:g})")
        if kind == RuleKind.BELOW:
            clear = rule.clear_at if rule.clear_at is not None else rule.threshold
            active = value < clear if mem.active else value < rule.threshold
            return Judgement(active, value, f"{label} (raises below {rule.threshold:g}, clears at {clear:g})")
        if kind == RuleKind.RATE:
            rate = self._rate(mem, -1, t, value, rule.rate_window_s)
            if rate is None:
                return Judgement(None)
            return Judgement(abs(rate) > rule.rate_per_min, rate, f"{rule.field} changing {rate:+.2f}/min")
        if kind == RuleKind.BAND:
            outside = not rule.band_low <= value <= rule.band_high
            whiles = [
                self._condition(rule, mem, i, c, readings, now_s) for i, c in enumerate(rule.conditions)
            ]
            if any(w is None for w in whiles):
                return Judgement(None)
            return Judgement(
                outside and all(whiles), value, f"{label} (band {rule.band_low:g}–{rule.band_high:g})"
            )
        return Judgement(None)

    def judge(self, rule: AlarmRule, readings: SiteReadings, now_s: float) -> Judgement:
        """Whether the rule's alarm condition holds now, after hysteresis and for_seconds."""
        mem = self.memory.setdefault(rule.pk, RuleMemory())
        j = self._raw(rule, mem, readings, now_s)
        if j.active is None:
            return Judgement(None, j.value, j.detail)
        if j.active and not mem.active:
            mem.pending_since = mem.pending_since or now_s
            if now_s - mem.pending_since < rule.for_seconds:
                return Judgement(False, j.value, j.detail)
            mem.active, mem.clear_since = True, None
        elif not j.active:
            mem.pending_since = None
            if mem.active:
                mem.active, mem.clear_since = False, now_s
        return Judgement(mem.active, j.value, j.detail)

    def restore(self, rule_id: int, *, active: bool, now_s: float) -> None:
        """After a restart: take the hysteresis side from the open alarm in the database."""
        mem = self.memory.setdefault(rule_id, RuleMemory())
        mem.active = active
        if not active and mem.clear_since is None:
            mem.clear_since = now_s


class AlarmEvaluation:
    """The pump handler: judge every enabled rule, then reconcile with the database."""

    def __init__(self) -> None:
        self.evaluator = Evaluator()
        self.rules: list[AlarmRule] = []
        self.loaded_at = 0.0
        self.restored = False

    def load_rules(self) -> None:
        self.rules = list(
            AlarmRule.objects.filter(enabled=True, site__is_active=True).select_related("site", "asset")
        )
        self.loaded_at = time.monotonic()

    def __call__(self, snapshot: Snapshot) -> None:
        from . import services

        if not snapshot.influx_ok:
            return  # nothing new to judge; stale-data rules speak once data flows again
        if not self.rules or time.monotonic() - self.loaded_at > RULES_REFRESH_S:
            self.load_rules()
        now: datetime = snapshot.taken_at
        now_s = now.timestamp()
        open_alarms = {
            a.rule_id: a
            for a in Alarm.objects.filter(state__in=OPEN_STATES).only(
                "id", "rule_id", "condition_active", "state"
            )
        }
        if not self.restored:
            for rule_id, alarm in open_alarms.items():
                self.evaluator.restore(rule_id, active=alarm.condition_active, now_s=now_s)
            self.restored = True
        for rule in self.rules:
            j = self.evaluator.judge(rule, snapshot.site(rule.site.slug), now_s)
            if j.active is None:
                continue
            alarm = open_alarms.get(rule.pk)
            mem = self.evaluator.memory[rule.pk]
            if j.active and (alarm is None or not alarm.condition_active):
                services.alarm_raise(rule=rule, value=j.value, detail=j.detail, now=now)
            elif not j.active and alarm is not None:
                if alarm.condition_active:
                    services.alarm_condition_cleared(alarm_id=alarm.pk, now=now)
                elif mem.clear_since is not None and now_s - mem.clear_since >= RESOLVE_AFTER_S:
                    services.alarm_auto_resolve(alarm_id=alarm.pk, now=now)


evaluate = AlarmEvaluation()
