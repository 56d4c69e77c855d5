"""The nemesis run: a three-broker cluster under load through the real entry points, faults
injected while it runs, and a checker that reads every output afterwards (issue 16).

- :mod:`.checker`: pure comparison of expected and read outputs, and the figures;
- :mod:`.system`: the cluster, the workers, the HTTP gateway and the file-drop connector as
  processes of their own, which the faults kill, stop and restart;
- :mod:`.load`: the inputs, at a steady rate, through the Publisher, the gateway and the file
  drop, each retried until its entry point acknowledged it; poison records;
- :mod:`.faults`: the fault kinds;
- :mod:`.run`: one run, its report; ``python -m support.nemesis.run`` (``make soak``).
"""
