from __future__ import annotations

import pytest

from bot.app import district_survey
from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from scheduler.config import load_config
from tests.conftest import SAMPLE_CONFIG

_CATALOGS = Catalogs.load(["hi", "en"])
_SURVEY = district_survey(load_config(SAMPLE_CONFIG), _CATALOGS)


@pytest.fixture(scope="session")
def survey() -> Survey:
    return _SURVEY


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    return _CATALOGS
