"""The settings of the embeddings server (``o1embed serve``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ServeConfig(BaseModel):
    """How the server names its models, batches requests and bounds its inputs.

    Model names: ``<name>-query`` embeds queries (thinking first, with the encoder's default ``think``),
    ``<name>-document`` embeds documents, and the bare ``<name>`` takes the role from the request's
    ``input_type`` field (``"query"`` | ``"document"``; with the openai client, ``extra_body``), default document.
    Any query request may carry ``think`` (in ``extra_body``), passed to :meth:`O1Encoder.encode_query` unchanged.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field("o1embed", description="Base model name; '-query' and '-document' are added.")
    host: str = Field("127.0.0.1", description="Address to bind (0.0.0.0: every interface).")
    port: int = Field(8080, ge=0, le=65535, description="Port to bind.")
    batch_window_ms: float = Field(
        10.0, ge=0, description="How long the batcher waits for more inputs after the first of a batch."
    )
    max_batch_items: int = Field(64, ge=1, description="Inputs per encoder batch.")
    max_items_per_request: int = Field(2048, ge=1, description="Inputs in one request (OpenAI: 2048); 413 past it.")
    max_input_tokens: int = Field(
        8192,
        ge=1,
        description="Tokens of one input (OpenAI: 8192); 413 past it. Longer inputs than the "
        "model's lengths are cut as in training; this limit only bounds the work of one request.",
    )
    max_pending_items: int = Field(
        4096, ge=1, description="Inputs queued or being encoded at once; a request past it gets 503."
    )
    api_key_env: str = Field(
        "O1EMBED_API_KEY", description="Environment variable holding the API key; unset or empty: no key."
    )

    @model_validator(mode="after")
    def _request_fits_queue(self) -> ServeConfig:
        if self.max_items_per_request > self.max_pending_items:
            self.max_items_per_request = self.max_pending_items
        return self

    def model_names(self) -> dict[str, str | None]:
        """``{served name: role}``; role None: taken from the request's ``input_type``."""
        return {f"{self.name}-query": "query", f"{self.name}-document": "document", self.name: None}
