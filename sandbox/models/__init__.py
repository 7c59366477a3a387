"""The model engine: manifests, verified weights, the two roles and their implementations.

Read it from the bottom up: ``manifests`` (what a model is) and ``base`` (the
``Generator`` and ``Embedder`` interfaces, their requests and stream events);
``weights`` (verify, prepare, typed copies), ``decoding`` (batch-invariant steps)
and ``rows`` (a running batch's rows); the implementations ``engine``
(transformers), ``service`` (one batching service per process), ``server`` (an
OpenAI-compatible model server) and ``embedders``; on top ``factory``, which
chooses among them, and ``status``, what the pages say about the model.
Import from the module that defines a name; this package re-exports nothing.
"""
