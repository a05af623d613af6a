import pytest

from o1embed.tasks.errors import ConfigError
from o1embed.tasks.evaluation.config import SystemSpec
from o1embed.tasks.thinking import think_mode


def test_think_modes_accept_the_old_booleans():
    assert think_mode(True) == "always" and think_mode(False) == "never" and think_mode("auto") == "auto"
    with pytest.raises(ConfigError, match="think must be one of"):
        think_mode("sometimes")


def test_a_system_spec_reads_its_mode_through_the_shared_vocabulary():
    spec = SystemSpec(name="t", kind="encoder", model="trained", think=True, skip_vector="query")
    assert spec.mode == "always"
    with pytest.raises(ValueError, match="skip_vector"):
        SystemSpec(name="t", kind="encoder", model="trained", think="auto", skip_vector="both")
