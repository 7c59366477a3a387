"""Fixtures of the page tests: the fake models the app is built with."""

from __future__ import annotations

import pytest
import streamlit as st

from sandbox.models import factory

from ..conftest import FakeEmbedder, FakeGenerator


@pytest.fixture
def fakes(monkeypatch):
    generator = FakeGenerator(["Negative", "Positive", "Negative", "Positive"])
    monkeypatch.setattr(factory, "build_generator", lambda settings, progress=None: generator)
    monkeypatch.setattr(factory, "build_embedder", lambda settings, progress=None, beside=None: FakeEmbedder())
    st.cache_resource.clear()
    yield generator
    st.cache_resource.clear()
