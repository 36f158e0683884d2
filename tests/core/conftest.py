"""Fixtures of the core tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> str:
    """The tracking URI of a fresh SQLite MLflow store, its schema already created (that costs seconds).

    Tests point `MLFLOW_TRACKING_URI` at it with monkeypatch; each uses its own experiment names.
    """
    from pipeline.core import tracking

    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        tracking.client()
    return uri
