"""The transformers engine: a causal language model run by transformers + torch on this computer's CPU.

It answers one request per ``stream`` call (the plain path), a left-padded batch
(``run_batch``), or rows that join and leave one token at a time
(``run_continuous``, what the batching service drives). Heavy imports (torch,
transformers) happen inside the methods, so the command line starts fast.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ModelError, PromptError
from ..i18n import N_
from .base import BatchJob, GenerationRequest, Generator
from .manifests import ModelManifest
from .rows import PaddedBatch, Row, group_jobs, select_rows
from .weights import ready_to_load, typed_weights

PREFIX_CACHE_SIZE = 16
"""Shared prompt starts whose key/value cache is kept (a few MB each)."""


class TransformersGenerator(Generator):
    """A causal LM with a chat template, run by transformers + torch on the CPU, one answer at a time."""

    def __init__(
        self,
        manifest: ModelManifest,
        settings: Settings,
        progress: Any = None,
        packed: bool = True,
        choose: Callable[[], str] | None = None,
    ) -> None:
        self.manifest = manifest
        self._choose = choose
        """Picks the number type at load when settings leave it to this computer (sandbox/models/setups.py)."""
        self.packed = packed
        """Lay the linear layers out for oneDNN at load (decoding.pack); False keeps plain transformers."""
        self.settings = settings
        self.name = manifest.name
        self.fingerprint = manifest.fingerprint
        self._progress = progress or (lambda message: None)
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._prefixes: dict[tuple[int, ...], Any] = {}
        self._floors: dict[int, int] = {}  # batch capacity -> fewest rows per linear layer (decoding.fewest_rows)
        self._folder = Path()  # the prepared weights, once loaded

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            if self._choose is not None:  # dtype auto: the factory's choice, measured once per computer
                self.settings = self.settings.with_overrides(dtype=self._choose())
            folder = ready_to_load(self.manifest, self.settings, self._progress)
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                variant = typed_weights(self.manifest, folder, self.settings)
                tokenizer = AutoTokenizer.from_pretrained(folder)
                model = AutoModelForCausalLM.from_pretrained(
                    folder, dtype=getattr(torch, self.settings.dtype), variant=variant
                )
            except Exception as exc:
                raise ModelError(
                    N_(
                        "The language model '{model}' failed to load from {folder}: {error}. "
                        "Run `prompt-sandbox models verify`, then `prompt-sandbox models pull` to prepare it again."
                    ),
                    model=self.name,
                    folder=folder,
                    error=exc,
                ) from exc
            # transformers' own generate still passes the old name for the cache; the warning is for its authors
            warnings.filterwarnings("ignore", message=".*past_key_values.*deprecated", category=FutureWarning)
            if not getattr(tokenizer, "chat_template", None):
                raise ModelError(
                    N_("The model '{model}' has no chat template; choose an instruction-tuned model."), model=self.name
                )
            model.eval()
            from . import decoding

            packed = self.packed and decoding.pack(model, self.settings.batch_size)
            self._tokenizer, self._model, self._folder = tokenizer, model, folder
            if packed:  # measured (once per machine) while pages say the model is loading, not at a class's first Run
                self._row_floor(self.settings.batch_size)

    def _row_floor(self, capacity: int) -> int:
        """The fewest rows a decoding step gives the linear layers in batches of ``capacity`` (decoding.fewest_rows)."""
        from . import decoding

        if capacity not in self._floors:
            self._floors[capacity] = decoding.remembered_fewest_rows(self._model, capacity, self._folder)
        return self._floors[capacity]

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, request: GenerationRequest) -> list[int]:
        """The token ids the model reads for ``request``; raises PromptError when they do not fit."""
        self.load()
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids: list[int] = self._tokenizer(text + request.prefill, add_special_tokens=False)["input_ids"]
        if len(ids) + request.max_new_tokens > self.manifest.context_length:
            raise PromptError(
                N_(
                    "Your prompt is {tokens:,} tokens long; with room for the answer the model can take at most "
                    "{most:,}. Make it shorter."
                ),
                tokens=len(ids),
                most=self.manifest.context_length - request.max_new_tokens,
            )
        return ids

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """The plain path: one request, one ``generate`` call (the app uses the batching service instead)."""
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        ids = self.encode(request)
        tokenizer, model = self._tokenizer, self._model
        inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}
        sampling = request.temperature > 0
        config = GenerationConfig(
            max_new_tokens=request.max_new_tokens,
            do_sample=sampling,
            temperature=request.temperature if sampling else None,
            top_p=request.top_p if sampling else None,
            top_k=None,
            eos_token_id=model.generation_config.eos_token_id,
            pad_token_id=model.generation_config.pad_token_id,
        )
        stop = request.stop
        abandoned = threading.Event()  # the reader went away: stop generating for nobody

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                halt = abandoned.is_set() or bool(stop and stop.is_set())
                return torch.full((input_ids.shape[0],), halt, dtype=torch.bool)

        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    if sampling:
                        torch.manual_seed(request.seed)
                    model.generate(
                        **inputs,
                        generation_config=config,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Stop()]),
                    )
            except BaseException as exc:  # reported to the caller below, never swallowed
                failure.append(exc)
                streamer.on_finalized_text("", stream_end=True)

        with self._run_lock:
            worker = threading.Thread(target=run, name=f"generate-{self.name}", daemon=True)
            worker.start()
            try:
                yield from (piece for piece in streamer if piece)
            finally:
                abandoned.set()
                worker.join()
        if failure:
            raise ModelError(N_("The language model stopped with an error: {error}"), error=failure[0]) from failure[0]

    def _special_ids(self) -> tuple[set[int], int]:
        """The ids that end an answer, and the id that fills padded places."""
        eos = self._model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        pad = self._model.generation_config.pad_token_id
        return eos_ids, pad if pad is not None else min(eos_ids)

    def run_batch(self, jobs: Sequence[BatchJob]) -> None:
        """Answer several jobs in one left-padded ``generate`` call, handing each row's text to its job.

        Greedy jobs only, or one sampling job alone (sampling draws from one random
        stream, so its answer would depend on its neighbours). Every job's
        ``finish`` is called once, when its row ends (end of answer, its own token
        limit, or it was stopped).
        """
        self.load()
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        tokenizer, model = self._tokenizer, self._model
        first = jobs[0].request
        sampling = first.temperature > 0
        if sampling and len(jobs) > 1:
            raise ValueError("a sampling request runs alone")
        eos_ids, pad = self._special_ids()
        width = max(len(job.ids) for job in jobs)
        input_ids = torch.tensor([[pad] * (width - len(job.ids)) + job.ids for job in jobs])
        attention_mask = torch.tensor([[0] * (width - len(job.ids)) + [1] * len(job.ids) for job in jobs])
        rows = [Row(job, tokenizer, eos_ids) for job in jobs]

        class _Streamer(BaseStreamer):
            prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:  # the first call hands over the prompt itself
                    self.prompt_seen = True
                    return
                for row, token in zip(rows, value.tolist(), strict=True):
                    row.add(token)

            def end(self) -> None:
                for row in rows:
                    row.close()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.tensor([row.closed or row.job.stopped() for row in rows], dtype=torch.bool)

        config = GenerationConfig(
            max_new_tokens=max(job.request.max_new_tokens for job in jobs),
            do_sample=sampling,
            temperature=first.temperature if sampling else None,
            top_p=first.top_p if sampling else None,
            top_k=None,
            eos_token_id=model.generation_config.eos_token_id,
            pad_token_id=pad,
        )
        with self._run_lock, torch.inference_mode():
            if sampling:
                torch.manual_seed(first.seed)
            model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                generation_config=config,
                streamer=_Streamer(),
                stopping_criteria=StoppingCriteriaList([_Stop()]),
            )
        for row in rows:
            row.close()

    def run_continuous(self, admit: Callable[[int], Sequence[BatchJob]], capacity: int) -> None:
        """Greedy decoding with rows that join and leave: continuous batching, one token per step.

        Before every step ``admit(room)`` hands over up to ``room`` new jobs (at most
        ``capacity`` rows run at once); each submission's prompts are read (prefilled)
        together, on their own (:meth:`_prefill`), and their rows join the running
        batch. A row leaves as soon as its answer ends, so a short answer never waits
        for a long one. Returns when no row is left and ``admit`` gives nothing.
        Llama-family models decode in :mod:`sandbox.models.decoding`, where a row's answer is
        the same whatever else runs, in float32 and bfloat16 alike; other models keep
        a left-padded cache with the padding masked (the same answers in float32).
        """
        self.load()
        import torch

        from . import decoding

        eos_ids, _ = self._special_ids()
        rows: list[Row] = []
        batch: PaddedBatch | decoding.RowCache = PaddedBatch()
        if decoding.supports(self._model):
            batch = decoding.RowCache(self._model, self._row_floor(capacity))
        last: Any = None  # (rows,): the token each row feeds next
        with self._run_lock, torch.inference_mode():
            while True:
                new = list(admit(capacity - len(rows)))
                for group in group_jobs(new):  # a submission's prompts are read together, each group alone
                    group_cache, group_mask, first = self._prefill(group)
                    group_rows = [Row(job, self._tokenizer, eos_ids) for job in group]
                    for row, token in zip(group_rows, first.tolist(), strict=True):
                        row.add(token)
                    keep = [not row.closed for row in group_rows]
                    group_cache, group_mask, first = select_rows(group_cache, group_mask, first, keep)
                    if any(keep):
                        batch.join(group_cache, group_mask)
                        last = first if not rows else torch.cat([last, first])
                        rows.extend(row for row, k in zip(group_rows, keep, strict=True) if k)
                if not rows:
                    if new:
                        continue  # every new row ended at once; ask for more
                    return
                last = batch.step(self._model, last)
                for row, token in zip(rows, last.tolist(), strict=True):
                    row.add(token)
                keep = [not row.closed for row in rows]
                if not all(keep):
                    order = batch.keep(keep)
                    last = last[torch.tensor(order, dtype=torch.long)]
                    rows = [rows[i] for i in order]

    def _prefill(self, jobs: Sequence[BatchJob]) -> tuple[Any, Any, Any]:
        """Read one submission's prompts; returns their cache, mask and each row's first answer token.

        The start the prompts share (``prefix`` ids) is read once, on its own, and
        kept for a while; the rest of each prompt is read in one left-padded batch on
        top of it. A submission is always read this same way, whatever else runs, so
        its answers never depend on the company.
        """
        import torch
        from torch.nn.functional import pad
        from transformers import DynamicCache

        prefix = jobs[0].prefix
        count = len(jobs)
        cache = DynamicCache(config=self._model.config)
        if prefix:
            key = tuple(jobs[0].ids[:prefix])
            shared = self._prefixes.pop(key, None)
            if shared is None:
                shared = DynamicCache(config=self._model.config)
                self._model(input_ids=torch.tensor([key]), cache=shared, use_cache=True, logits_to_keep=1)
            self._prefixes[key] = shared  # most recently used last
            while len(self._prefixes) > PREFIX_CACHE_SIZE:
                self._prefixes.pop(next(iter(self._prefixes)))
            for number, layer in enumerate(shared.layers):
                cache.update(layer.keys.expand(count, -1, -1, -1), layer.values.expand(count, -1, -1, -1), number)
        rests = [job.ids[prefix:] for job in jobs]
        width = max(len(rest) for rest in rests)
        _, filler = self._special_ids()
        input_ids = torch.tensor([[filler] * (width - len(rest)) + rest for rest in rests])
        rest_mask = torch.tensor([[0] * (width - len(rest)) + [1] * len(rest) for rest in rests])
        positions = (prefix + rest_mask.cumsum(dim=1) - 1).masked_fill(rest_mask == 0, 1)
        mask = pad(rest_mask, (prefix, 0), value=1)
        out = self._model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,  # only the last position's next token is needed, as in `generate`
        )
        return cache, mask, out.logits[:, -1, :].argmax(dim=-1)
