"""Start and stop heatops' own InfluxDB, Redis and (optionally) PostgreSQL processes, with
their data under a folder.

One module owns how these servers are launched, for the demo (``deploy/run``, data under
``var/``) and for the test harness (``tests/conftest.py``, data in a temporary folder, on
free ports). It needs nothing but the standard library and the Debian packages ``influxdb``,
``redis-server`` and ``postgresql``; no systemd.

    python -m heatops.devservices up      # start them (reuses ones already running)
    python -m heatops.devservices down    # stop them
    python -m heatops.devservices status

PostgreSQL is one of them when ``HEATOPS_DB=postgres`` (README, "Configuration").

One module per kind of server: ``base`` (a server process with its pid file and log,
free ports), ``stores`` (InfluxDB, Redis), ``postgres``, ``balancer`` (haproxy in front of
the web workers); ``__main__`` is the command line.
"""
