"""Benchmark of issue #3: the sighting workflow's worker throughput and latency, against a raw
loop measured in the same run.

What is measured (sighting -> police inbox, on the local broker, SCRAM, ACLs):

1. Latency at a steady rate: the ``transport`` agency publishes sightings with
   :class:`exchange.client.publisher.Publisher`, paced at ``--rate`` per second for ``--seconds``;
   a receiver in its own process reads the police inbox as the ``police`` principal and records,
   per dispatch, its receive time minus the sighting's *scheduled* send time (carried in the
   sighting id ``B-<run>-L-<seq>-<ns>``; the scheduled time, so that a late producer counts
   against the latency instead of hiding it). Targets: p99 < 250 ms at 200 sightings/s.
   Measured in the steady state: both are first warmed up at the same rate until
   :data:`WARM_STREAK` dispatches in a row come within :data:`WARM_WITHIN_MS`; the warm-up's
   length is printed (a worker started on a fresh broker lags by seconds while its group
   settles).
2. Maximum sustained throughput of one worker process: ``--records`` sightings are pre-loaded
   into ``exchange.sighting`` while the worker is stopped; then the worker starts and the rate
   is taken from its first dispatch seen in the police inbox to its last. Targets: >= 5,000
   sightings/s and >= 40% of the raw loop.
3. The faust floor, on the same pre-loaded records: a faust agent made by the worker's own app
   factory that only sends one record per sighting, then one that also writes one table entry
   (:mod:`benchmarks.faust_floor`): the least any faust worker pays per sighting for its
   dispatch and its deadline entry. The worker cannot be faster, whatever its own code costs.

The workflow is the real ``exchange worker --replication 1`` (faust-streaming, app
``workflows.main``, as the ``workflows`` principal), started fresh for each measurement, its
output kept in ``.state/bench-workflows-<run>.log``. Every sighting has ``facility=None`` and
``regionCode=610113``, so it is dispatched once, to ``exchange.sighting.to.police``.

The baseline is a raw aiokafka consume -> transform -> produce loop in its own process, as the
``workflows`` principal, in a fresh group ``workflows.bench-raw-<run>``: it decodes each
sighting with bare fastavro, builds the dispatch as a plain dict, encodes it with bare fastavro
(the same 495-byte record the worker sends; no validation, no routing, no dedupe, no tables) and
produces it to ``workflows.bench-raw-<run>`` (3 partitions, created as admin and deleted
afterwards; the receiver reads it as admin), awaiting the broker's acks and then committing,
once per batch of up to 500. It is measured the same two ways, on the same pre-loaded records.

The benchmark runs on a broker of its own, started fresh for every run (``.state/bench-broker``,
127.0.0.1:39092 unless ``--base-port`` says otherwise, the repository's topology applied): the
development broker's leftover tables (e.g. thousands of pending deadlines coming due) would
otherwise weigh on the worker measured.

Usage, from the repository's root::

    python -m benchmarks.worker_throughput [--rate 200] [--seconds 20] [--records 20000]
        [--base-port 39092]

With ``--compare-protection [--rounds 2]`` it measures instead the protected worker against the
unprotected one, latency at ``--rate`` and throughput on ``--records`` pre-loaded, round by
round (issue #14); with ``--compare-scrape`` the worker scraped every 5 s against the same
worker not scraped (issue #15) (both in :mod:`.comparison`).

Modules: :mod:`.names` (topics, groups, ids), :mod:`.sender` (the transport agency),
:mod:`.receiver` (the timing inbox reader), :mod:`.raw_loop` (the baseline), :mod:`.processes`
(the worker, the faust floor, the group's lag), :mod:`.comparison` (two workers side by side),
:mod:`.own_code`, :mod:`.report`, and
:mod:`.__main__` (the phases in order); :mod:`.workflow` holds all it takes from
:mod:`exchange.workflows`.
"""
