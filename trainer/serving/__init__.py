"""``o1embed serve``: a trained O1 model behind an OpenAI-compatible embeddings API.

- :mod:`.config`: :class:`ServeConfig`, the server's typed settings (names, limits, batching, API key variable).
- :mod:`.protocol`: the OpenAI request/response and error shapes, and request validation.
- :mod:`.batcher`: the background task that gathers concurrent requests into batches for the encoder.
- :mod:`.app`: the Starlette application (``/v1/embeddings``, ``/v1/models``, ``/health``, ``/metrics``).
"""
