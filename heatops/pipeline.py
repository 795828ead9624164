"""What the telemetry pump calls, in order (``HEATOPS_PUMP_PIPELINE`` names this module).

After each read of InfluxDB (``TICK_HANDLERS``), in this order because each uses what
the one before it did in the same tick:

1. ``evaluate``: alarm rules on the tick's readings. First, so an alarm raised or resolved
   by these readings is in the database when the pages for the same readings are rendered.
2. ``influx_watch``: the "InfluxDB unreachable" alarm, raised after a while without a
   read and resolved by the first read that succeeds. Before the pages, for the same reason.
3. ``publish``: the live pages' fragments, rendered once per site for every viewer,
   cached and sent to the sites' groups; it reads the alarms the two above left.

After points the ingest endpoint has just stored (``PUSH_HANDLERS``): only ``publish``,
for the sites those points changed, so they are on the pages at once. Alarms are judged
on the next tick, which sees the same points: a rule's delays are seconds, and one
evaluation per tick keeps its database work independent of how often agents post.
"""

from apps.alarms.evaluation import evaluate
from apps.alarms.system import influx_watch
from apps.dashboard.live import publish

TICK_HANDLERS = [evaluate, influx_watch, publish]
PUSH_HANDLERS = [publish.pushed]
