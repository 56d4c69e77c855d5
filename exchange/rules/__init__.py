"""The domain rules of the bus, apart from any I/O: pure functions and frozen models over the
event models and the reference data in ``topology/`` (seed articles 5-10).

- :mod:`.geo`                 WGS84 points and great-circle distances
- :mod:`.jurisdiction`        Xi'an's police units and transport facilities (``jurisdiction.toml``)
- :mod:`.routing`             which unit a transport sighting goes to, and why
- :mod:`.deadlines`           a sighting dispatch's acknowledgement deadline and escalation
- :mod:`.public_alert`        the minimised public alert and its Tuanyuan radius schedule
- :mod:`.matching`            scoring a sighting against open missing-person cases
- :mod:`.referral_rules`      which agencies a rescued person is referred to (rules as data)
- :mod:`.referral_lifecycle`  the steps a referral may take
- :mod:`.referral_board`      the joint-meeting office's board of referrals
- :mod:`.follow_up`           the residence station's follow-up visits
- :mod:`.exceptions`          :class:`RuleError` and its branch of :mod:`exchange.errors`

Nothing here imports faust, aiokafka or kafka (``tests/rules/test_layers.py`` proves it), so the
workflows, the reports, the CLI, the CAP sink and the demo share the same decisions.
"""
