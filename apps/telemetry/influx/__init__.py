"""The one package that talks to InfluxDB.

It speaks the v1 HTTP API only: line protocol to ``/write`` and InfluxQL to ``/query``.
InfluxDB 1.x serves it natively and 2.x/3.x through their v1-compatibility endpoints, so
one code path reaches all of them (docs/telemetry.md). Nothing else in heatops builds line
protocol or InfluxQL: identifiers, tag values and string literals are quoted and escaped
here, once.

- ``errors``: what can go wrong (``InfluxError`` and its kinds).
- ``escaping``: InfluxQL identifiers, literals, durations and times.
- ``points``: ``Point``, written as line protocol.
- ``statements``: the InfluxQL SELECTs heatops runs (charts, reports).
- ``results``: ``Series`` and ``Reading``, what queries answer.
- ``client``: ``InfluxClient`` and the shared ``get_client()``.
- ``writes``: the kept-alive connections ``InfluxClient.write_lines`` posts over.
"""
