"""The main job's scenario (``exchange demo``): the bus driven by a multi-agency story.

- :mod:`.scenario`   the whole demo: core events, guard rails, then the two workflow acts
- :mod:`.workflows`  act 3: sightings, the missing child's public alert and its matches
- :mod:`.referrals`  act 4: a rescue and its referral plan on a compressed clock
- :mod:`.act`        what the two workflow acts share (publishing as an agency, the worker)
"""

from exchange.demo.scenario import run_demo

__all__ = ["run_demo"]
