"""Stand-ins for the outside world, shared by the tests and the benchmarks (nothing else imports them).

- :mod:`.beir`: tiny BEIR-layout folders written on the fly (``make_beir``).
- :mod:`.openai_server`: a fast local OpenAI-compatible chat server with optional faults.
- :mod:`.server_process`: runs that server in a subprocess for the length of a ``with`` block.
- :mod:`.tiny_models`: a tiny random sentence-transformers model (cost and code paths, not quality).
"""
