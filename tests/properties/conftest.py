"""Hypothesis settings for the property suite: bounded, so `make test` stays within a minute.

`derandomize` makes every run try the same examples (a red `make test` is reproducible);
HYPOTHESIS_PROFILE=explore runs more examples with fresh randomness, for hunting.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("slt-nb", max_examples=50, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("explore", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "slt-nb"))
