"""Free prompting with generation parameters; nothing is graded or saved."""

from __future__ import annotations

from contextlib import closing

import streamlit as st

from sandbox.errors import SandboxError
from sandbox.exercises.prompts import clean_text
from sandbox.models.base import GenerationRequest, Piece, Waiting
from sandbox_ui import common, components, sign_in

st.title("Playground")
st.markdown("Try anything. Nothing here is graded or saved.")
settings = common.settings()

system = st.text_area("System prompt (optional): how the model should behave", key="pg_system", height=80)
prompt = st.text_area("Your prompt", key="pg_prompt", height=160)
prefill = st.text_input("Start of the answer (optional): the model goes on from these words", key="pg_prefill")
cols = st.columns(4)
temperature = cols[0].slider("Temperature (0 = always the same answer)", 0.0, 1.5, 0.0, 0.1)
top_p = cols[1].slider("Top-p", 0.1, 1.0, 1.0, 0.05)
max_tokens = cols[2].slider("Max new tokens", 8, 256, 96, 8)
seed = cols[3].number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1)

if st.button("Run", type="primary", key="pg_run"):
    text = clean_text(prompt or "").strip()
    if not text:
        st.warning("Write a prompt first.")
    elif len(text) > settings.max_prompt_chars:
        st.warning(f"Your prompt is {len(text):,} characters long; the limit is {settings.max_prompt_chars:,}.")
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
        cancel.button("Cancel", key="pg_cancel", icon=":material/stop_circle:")
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
                box.info("The model gave no answer.")
        except SandboxError as exc:
            common.show_error(exc)
        cancel.empty()
