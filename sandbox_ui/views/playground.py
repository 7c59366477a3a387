"""Free prompting with generation parameters; nothing is graded or saved."""

from __future__ import annotations

from contextlib import closing

import streamlit as st

from sandbox.errors import SandboxError
from sandbox.exercises.prompts import clean_text
from sandbox.i18n import _
from sandbox.models.base import GenerationRequest, Piece, Waiting
from sandbox_ui import common, components, sign_in

st.title(_("Playground"))
st.markdown(_("Try anything. Nothing here is graded or saved."))
settings = common.settings()

system = st.text_area(_("System prompt (optional): how the model should behave"), key="pg_system", height=80)
prompt = st.text_area(_("Your prompt"), key="pg_prompt", height=160)
prefill = st.text_input(_("Start of the answer (optional): the model goes on from these words"), key="pg_prefill")
cols = st.columns(4)
# keyed, so a setting is kept when the labels change language
temperature = cols[0].slider(_("Temperature (0 = always the same answer)"), 0.0, 1.5, 0.0, 0.1, key="pg_temperature")
top_p = cols[1].slider(_("Top-p"), 0.1, 1.0, 1.0, 0.05, key="pg_top_p")
max_tokens = cols[2].slider(_("Max new tokens"), 8, 256, 96, 8, key="pg_max_tokens")
seed = cols[3].number_input(_("Seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key="pg_seed")

if st.button(_("Run"), type="primary", key="pg_run"):
    text = clean_text(prompt or "").strip()
    if not text:
        st.warning(_("Write a prompt first."))
    elif len(text) > settings.max_prompt_chars:
        st.warning(
            _("Your prompt is {length:,} characters long; the limit is {limit:,}.").format(
                length=len(text), limit=settings.max_prompt_chars
            )
        )
    elif common.ensure_models_loaded():
        request = GenerationRequest(
            prompt=text,
            system=clean_text(system).strip() or None,
            prefill=clean_text(prefill or ""),
            max_new_tokens=int(max_tokens),
            temperature=float(temperature),
            top_p=float(top_p),
            seed=int(seed),
            stop=common.new_run_stop(),
        )
        cancel = st.empty()
        cancel.button(_("Cancel"), key="pg_cancel", icon=":material/stop_circle:")
        box = st.empty()
        answer = request.prefill
        learner = sign_in.current_learner()
        owner = learner.name if learner else None
        try:
            with closing(common.generator().stream_many([request], owner)) as events:
                for event in events:
                    if isinstance(event, Waiting):
                        box.caption(components.queue_line(event.ahead))
                    elif isinstance(event, Piece):
                        answer += event.text
                        box.code(answer, language=None, wrap_lines=True)
            if not answer:
                box.info(_("The model gave no answer."))
        except SandboxError as exc:
            common.show_error(exc)
        cancel.empty()
